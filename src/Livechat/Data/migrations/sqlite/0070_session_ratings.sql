-- Satisfaction ratings (contract section 20): a session's customer rates it once, after it closed. The rating
-- lives on the session's own row, so every read of a session (SessionRows.Columns) shows it without a join.
-- "Once" is decided by the database: the rating is one UPDATE ... WHERE rating_score IS NULL (Sessions/SessionStore.cs).
ALTER TABLE chat_sessions ADD COLUMN rating_score INTEGER CHECK (rating_score BETWEEN 1 AND 5);
ALTER TABLE chat_sessions ADD COLUMN rating_comment TEXT;
ALTER TABLE chat_sessions ADD COLUMN rated_at TEXT;

-- The search backfill (Search/SearchBackfill.cs) finds the messages still without a search vector through this
-- partial index of exactly those: empty once the backfill is done, so a start with nothing to index costs one look
-- at it. Before, the backfill found them by walking the table's primary key from the start at every start, every
-- message read in batches of 1,000: about 8 s of the database's time per million messages (docs/search.md).
-- An erased message gets an empty vector, not NULL, so it does not come back here (Privacy/Forgetting.cs).
-- Building it reads the table once (about a second per million messages), while writes to chat_messages wait.
CREATE INDEX ix_chat_messages_unsearched ON chat_messages (tenant_id, session_id, seq) WHERE search_vector IS NULL;

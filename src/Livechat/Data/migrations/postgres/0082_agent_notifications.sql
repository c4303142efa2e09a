-- Contract section 18 (v1.2): agents get notifications too. An assignment names no message.
ALTER TABLE notifications ALTER COLUMN message_id DROP NOT NULL;

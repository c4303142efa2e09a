-- Contract section 16 (v1.2): internal notes are messages of the session that only agents read. They take their
-- seq from the session like any message (one order, one walk for agents); every read for a tenant user leaves
-- them out through one predicate (Messages/MessageVisibility.cs). The partial index holds only the notes: a
-- tenant user's unread count subtracts the notes after its marker, which costs nothing in a session without notes.
ALTER TABLE chat_messages ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));
CREATE INDEX ix_chat_messages_notes ON chat_messages (tenant_id, session_id, seq) WHERE internal;

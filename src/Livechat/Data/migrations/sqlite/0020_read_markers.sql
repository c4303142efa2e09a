-- Read markers (contract section 11): per session and participant, the last message it has read, with its
-- seq, so "unread" is a range of the messages' primary key and moving forward only is one comparison.
CREATE TABLE read_markers (
    tenant_id             INTEGER NOT NULL,
    session_id            TEXT    NOT NULL,
    user_id               INTEGER NOT NULL,
    last_read_seq         INTEGER NOT NULL,
    last_read_message_id  TEXT    NOT NULL,
    read_at               TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, session_id, user_id),
    FOREIGN KEY (tenant_id, session_id) REFERENCES chat_sessions (tenant_id, id)
) WITHOUT ROWID;

-- A caller's own messages after its marker, the one term of unread_count that is not arithmetic on seq
-- (see Reading/ReadMarkers.cs): a range of this index, empty but for messages sent before markers existed.
CREATE INDEX ix_chat_messages_sender ON chat_messages (tenant_id, session_id, sender_id, seq);

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

-- Contract section 18 (v1.2): agents get notifications too. An assignment names no message. SQLite cannot drop
-- NOT NULL from a column: the table is made again with the same rows (in this migration's one transaction).
CREATE TABLE notifications_new (
    tenant_id   INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    session_id  TEXT    NOT NULL,
    message_id  TEXT,
    preview     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    read_at     TEXT,
    PRIMARY KEY (tenant_id, user_id, id)
) WITHOUT ROWID;
INSERT INTO notifications_new (tenant_id, user_id, id, type, session_id, message_id, preview, created_at, read_at)
SELECT tenant_id, user_id, id, type, session_id, message_id, preview, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX ix_notifications_newest ON notifications (tenant_id, user_id, created_at DESC, id DESC);

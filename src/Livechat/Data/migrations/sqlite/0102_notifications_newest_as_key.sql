-- Issue 23 (ADR 0049): a user's notifications are kept in the order they are listed, newest first, by the table's own
-- key, so the send no longer writes a second per-user b-tree (ix_notifications_newest). A message's notification wrote
-- three leaves in three places (the recipient's rows, the recipient's index entry, the session's index entry), and the
-- one writer copies every page it dirtied into the WAL at each commit: the notifications were 65 % of the WAL's frames
-- under the send load, ix_notifications_newest alone 21 % (docs/performance.md, session 27). The lookup by id (marking
-- one read, a page's cursor) takes ux_notifications_id instead, whose UUIDv7 keys grow with time: a batch's new entries
-- share its last leaf. The listing's SQL and order are unchanged ((created_at, id), id unique). PostgreSQL keeps its index.
-- SQLite cannot change a primary key in place: the table is made again with the same rows, read in the new key's order
-- (the old key's order, each user's rows sorted by time: a sort a user, not one of the whole table), and its indexes
-- are built once the rows are in (1,000,000 notifications: 34 s on the loaded 2-core machine).
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
    PRIMARY KEY (tenant_id, user_id, created_at, id)
) WITHOUT ROWID;
INSERT INTO notifications_new (tenant_id, user_id, id, type, session_id, message_id, preview, created_at, read_at)
SELECT tenant_id, user_id, id, type, session_id, message_id, preview, created_at, read_at FROM notifications
ORDER BY tenant_id, user_id, created_at, id;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE UNIQUE INDEX ux_notifications_id ON notifications (tenant_id, id);
CREATE INDEX ix_notifications_session ON notifications (tenant_id, session_id);

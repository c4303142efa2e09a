-- Issue 23 (ADR 0053): a message's notification no longer writes a per-session index entry. ix_notifications_session
-- (tenant_id, session_id) put every notification in its session's leaf, one more page a message for the one writer to
-- copy into the WAL at each commit: a quarter of the WAL's frames under the send load (docs/performance.md, session
-- 27), and the send's SQLite rate 16 to 20 % lower with it than without (session 29). The purge and erasure, its only
-- readers, now find a message's notifications by the message: message ids are UUIDv7s, which grow with time, so a
-- batch's new entries share the index's last leaf. The few notifications without a message (an assignment) keep a per-session
-- index of their own, which the send never writes.
-- A purge interrupted by an upgrade may have deleted some of a session's messages and not yet their notifications
-- (the code before this deleted them with the session); those are deleted here, since the new code deletes a message's
-- notifications with the message and would no longer find them. Only the purge deletes messages (Privacy/Forgetting.cs).
DELETE FROM notifications
WHERE message_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM chat_messages m WHERE m.tenant_id = notifications.tenant_id AND m.id = notifications.message_id);
DROP INDEX IF EXISTS ix_notifications_session;
CREATE INDEX IF NOT EXISTS ix_notifications_message ON notifications (tenant_id, message_id) WHERE message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_notifications_unmessaged ON notifications (tenant_id, session_id) WHERE message_id IS NULL;

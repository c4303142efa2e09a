-- One OPEN routed session per tenant user (contract section 10, v1.2): a user who starts again gets its open
-- chat back, so one user cannot fill the queue. routed marks the sessions a tenant user's start without
-- agent_id created (they stay routed when transferred or requeued). The unique index decides between
-- concurrent starts of one user: the second insert waits for the first to commit, then fails, and the
-- service answers it with the winner's session. Sessions opened before this migration are not marked.
ALTER TABLE chat_sessions ADD COLUMN routed INTEGER NOT NULL DEFAULT 0 CHECK (routed IN (0, 1));
CREATE UNIQUE INDEX ux_chat_sessions_open_routed ON chat_sessions (tenant_id, created_by) WHERE status = 'OPEN' AND routed;

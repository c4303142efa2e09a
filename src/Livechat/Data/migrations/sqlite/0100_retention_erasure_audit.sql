-- Contract section 21: per-tenant retention, erasure of one tenant user's data, and the audit log (docs/privacy.md,
-- docs/decisions/0039-retention-erasure-audit.md). The same tables as migrations/postgres/0100.

CREATE TABLE tenant_settings (
    tenant_id       INTEGER NOT NULL PRIMARY KEY REFERENCES tenants (id),
    retention_days  INTEGER CHECK (retention_days BETWEEN 1 AND 3650),
    updated_at      TEXT    NOT NULL
);

-- An erased message stays as a placeholder (message '', deleted): its id, seq and cursor stay valid.
ALTER TABLE chat_messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1));

CREATE TABLE audit_log (
    tenant_id   INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    actor_id    INTEGER,
    action      TEXT    NOT NULL,
    target      TEXT,
    request_id  TEXT,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX ix_audit_log_newest ON audit_log (tenant_id, created_at DESC, id DESC);

CREATE TABLE erasure_jobs (
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    id             TEXT    NOT NULL,
    user_id        INTEGER NOT NULL,
    requested_by   INTEGER NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'done')),
    messages       INTEGER NOT NULL DEFAULT 0,
    attachments    INTEGER NOT NULL DEFAULT 0,
    notifications  INTEGER NOT NULL DEFAULT 0,
    read_markers   INTEGER NOT NULL DEFAULT 0,
    ratings        INTEGER NOT NULL DEFAULT 0,
    names          INTEGER NOT NULL DEFAULT 0,
    locked_until   TEXT,
    created_at     TEXT    NOT NULL,
    finished_at    TEXT,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX ix_erasure_jobs_pending ON erasure_jobs (created_at) WHERE status = 'pending';

CREATE INDEX ix_notifications_session ON notifications (tenant_id, session_id);
CREATE INDEX ix_session_participants_user ON session_participants (tenant_id, user_id);
CREATE INDEX ix_read_markers_user ON read_markers (tenant_id, user_id);
CREATE INDEX ix_attachments_session ON attachments (tenant_id, session_id);
ALTER TABLE webhook_events ADD COLUMN session_id TEXT;
ALTER TABLE webhook_events ADD COLUMN actor_id INTEGER;
CREATE INDEX ix_webhook_events_session ON webhook_events (tenant_id, session_id) WHERE session_id IS NOT NULL;
CREATE INDEX ix_webhook_events_actor ON webhook_events (tenant_id, actor_id) WHERE actor_id IS NOT NULL;

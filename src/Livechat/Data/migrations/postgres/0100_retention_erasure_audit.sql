-- Contract section 21: per-tenant retention, erasure of one tenant user's data, and the audit log (docs/privacy.md,
-- docs/decisions/0039-retention-erasure-audit.md).

-- A tenant's settings: one row per tenant that set one. retention_days NULL keeps everything.
CREATE TABLE tenant_settings (
    tenant_id       bigint      NOT NULL PRIMARY KEY REFERENCES tenants (id),
    retention_days  integer     CHECK (retention_days BETWEEN 1 AND 3650),
    updated_at      timestamptz NOT NULL
);

-- An erased message stays as a placeholder (message '', deleted): its id, seq and cursor stay valid, and a
-- session's seqs stay dense, which the unread count relies on (Sessions/SessionRows.cs).
ALTER TABLE chat_messages ADD COLUMN deleted boolean NOT NULL DEFAULT false;

-- Who did what to the tenant's configuration and data, newest first. Append-only: the service never updates a row.
CREATE TABLE audit_log (
    tenant_id   bigint      NOT NULL,
    id          uuid        NOT NULL,
    actor_id    bigint,                 -- NULL: the service itself (a retention purge)
    action      text        NOT NULL,
    target      text,
    request_id  text,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ix_audit_log_newest ON audit_log (tenant_id, created_at DESC, id DESC);

-- Erasure requests: a job any instance may run, claimed with a short lease; counts grow in each batch's transaction.
CREATE TABLE erasure_jobs (
    tenant_id      bigint      NOT NULL REFERENCES tenants (id),
    id             uuid        NOT NULL,
    user_id        bigint      NOT NULL,
    requested_by   bigint      NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'done')),
    messages       integer     NOT NULL DEFAULT 0,
    attachments    integer     NOT NULL DEFAULT 0,
    notifications  integer     NOT NULL DEFAULT 0,
    read_markers   integer     NOT NULL DEFAULT 0,
    ratings        integer     NOT NULL DEFAULT 0,
    names          integer     NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ix_erasure_jobs_pending ON erasure_jobs (created_at) WHERE status = 'pending';

-- What hangs off a session or a user, found through an index rather than a scan of the tenant's rows.
CREATE INDEX ix_notifications_session ON notifications (tenant_id, session_id);
CREATE INDEX ix_session_participants_user ON session_participants (tenant_id, user_id);
CREATE INDEX ix_read_markers_user ON read_markers (tenant_id, user_id);
CREATE INDEX ix_attachments_session ON attachments (tenant_id, session_id);
-- A webhook event names the session it is about and the user who caused it (from the event's push), so a purge
-- or an erasure finds its events without reading payloads. Older events have neither: they expire with the
-- delivery log (Livechat__Webhooks__RetentionDays).
ALTER TABLE webhook_events ADD COLUMN session_id uuid;
ALTER TABLE webhook_events ADD COLUMN actor_id bigint;
CREATE INDEX ix_webhook_events_session ON webhook_events (tenant_id, session_id) WHERE session_id IS NOT NULL;
CREATE INDEX ix_webhook_events_actor ON webhook_events (tenant_id, actor_id) WHERE actor_id IS NOT NULL;
-- The purge's scan: a tenant's sessions by the time they closed (ix_session_facts_closed serves it).

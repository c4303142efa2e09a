-- Livechat schema for SQLite. Ids are lower-case UUID text, timestamps are RFC 3339 text in UTC with
-- microseconds (they sort as they read). Every table leads with tenant_id, like the PostgreSQL schema.

CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    domain      TEXT    UNIQUE,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL
);

-- A user becomes a known agent of a tenant by calling the API with SUPPORT_AGENT in that tenant.
-- presence is what the agent (or its realtime connections) last said; offline_after, when set, is the
-- moment an ONLINE agent whose last connection dropped counts as OFFLINE (the grace period).
CREATE TABLE agents (
    tenant_id            INTEGER NOT NULL REFERENCES tenants (id),
    user_id              INTEGER NOT NULL,
    presence             TEXT    NOT NULL DEFAULT 'OFFLINE' CHECK (presence IN ('ONLINE', 'AWAY', 'OFFLINE')),
    offline_after        TEXT,
    presence_changed_at  TEXT    NOT NULL,
    last_seen_at         TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
) WITHOUT ROWID;

-- Tenant users (any role but SUPPORT_AGENT) that have called the API in a tenant: notification recipients.
CREATE TABLE tenant_users (
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    user_id       INTEGER NOT NULL,
    last_seen_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
) WITHOUT ROWID;

CREATE TABLE chat_sessions (
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    id          TEXT    NOT NULL,
    agent_id    INTEGER,
    status      TEXT    NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    created_by  INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL DEFAULT 0,  -- the per-session order key of the newest message
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

-- One OPEN session per agent and tenant, whatever races the application loses.
CREATE UNIQUE INDEX ux_chat_sessions_open_agent ON chat_sessions (tenant_id, agent_id) WHERE status = 'OPEN';
CREATE INDEX ix_chat_sessions_newest ON chat_sessions (tenant_id, created_at DESC, id DESC);
CREATE INDEX ix_chat_sessions_status_newest ON chat_sessions (tenant_id, status, created_at DESC, id DESC);

-- seq is assigned from chat_sessions.last_seq inside the insert's transaction: a total, stable order.
CREATE TABLE chat_messages (
    tenant_id   INTEGER NOT NULL,
    session_id  TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    sender_id   INTEGER NOT NULL,
    message     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, session_id, seq),
    FOREIGN KEY (tenant_id, session_id) REFERENCES chat_sessions (tenant_id, id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX ux_chat_messages_id ON chat_messages (tenant_id, id);

-- Tenant users who wrote in a session: they, and only they, are notified of agent replies there.
CREATE TABLE session_participants (
    tenant_id   INTEGER NOT NULL,
    session_id  TEXT    NOT NULL,
    user_id     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, session_id, user_id)
) WITHOUT ROWID;

CREATE TABLE tickets (
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    id           TEXT    NOT NULL,
    agent_id     INTEGER,
    title        TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    priority     TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('open', 'in_progress', 'resolved', 'closed')),
    description  TEXT    NOT NULL,
    origin       TEXT    NOT NULL,  -- why it was opened: 'agent_offline'
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

-- At most one unresolved offline ticket per agent: repeated start attempts reuse it (no ticket storm).
CREATE UNIQUE INDEX ux_tickets_open_offline_agent ON tickets (tenant_id, agent_id)
    WHERE origin = 'agent_offline' AND status IN ('open', 'in_progress');
CREATE INDEX ix_tickets_newest ON tickets (tenant_id, created_at DESC, id DESC);

CREATE TABLE notifications (
    tenant_id   INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    session_id  TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    preview     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    read_at     TEXT,
    PRIMARY KEY (tenant_id, user_id, id)
) WITHOUT ROWID;

CREATE INDEX ix_notifications_newest ON notifications (tenant_id, user_id, created_at DESC, id DESC);

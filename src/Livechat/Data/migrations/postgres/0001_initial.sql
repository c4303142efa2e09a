-- Livechat schema for PostgreSQL: the same tables, keys and constraints as migrations/sqlite/0001_initial.sql,
-- with native types (uuid, timestamptz, bigint, boolean). tenant_id leads every primary key and every index
-- that serves a tenant's query, so each query is a range of one tenant, and a table can later be distributed
-- by tenant_id (Citus) without a rewrite. Ids are UUIDv7 made by the service: time-ordered, so inserts land
-- at the right-hand edge of their indexes instead of splitting pages at random.

CREATE TABLE tenants (
    id          bigint      PRIMARY KEY,
    name        text        NOT NULL,
    domain      text        UNIQUE,      -- host-name resolution; the service stores it lower-case
    active      boolean     NOT NULL DEFAULT TRUE,
    created_at  timestamptz NOT NULL
);

-- A user becomes a known agent of a tenant by calling the API with SUPPORT_AGENT in that tenant.
-- presence is what the agent (or its realtime connections) last said; offline_after, when set, is the
-- moment an ONLINE agent whose last connection dropped counts as OFFLINE (the grace period).
CREATE TABLE agents (
    tenant_id            bigint      NOT NULL REFERENCES tenants (id),
    user_id              bigint      NOT NULL,
    presence             text        NOT NULL DEFAULT 'OFFLINE' CHECK (presence IN ('ONLINE', 'AWAY', 'OFFLINE')),
    offline_after        timestamptz,
    presence_changed_at  timestamptz NOT NULL,
    last_seen_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- Tenant users (any role but SUPPORT_AGENT) that have called the API in a tenant: notification recipients.
CREATE TABLE tenant_users (
    tenant_id     bigint      NOT NULL REFERENCES tenants (id),
    user_id       bigint      NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE chat_sessions (
    tenant_id   bigint      NOT NULL REFERENCES tenants (id),
    id          uuid        NOT NULL,
    agent_id    bigint,
    status      text        NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    created_by  bigint      NOT NULL,
    -- The per-session order key of the newest message. Bumping it is also the row lock that makes
    -- concurrent senders to one session queue, so seq order is commit order.
    last_seq    bigint      NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- One OPEN session per agent and tenant, whatever races the application loses: under READ COMMITTED two
-- concurrent starts both see no open session; this index makes the second insert wait for the first
-- commit and then fail, and the service answers the loser with the winner's id.
CREATE UNIQUE INDEX ux_chat_sessions_open_agent ON chat_sessions (tenant_id, agent_id) WHERE status = 'OPEN';
-- The newest-first session lists (keyset on (created_at, id)), without and with a status filter.
CREATE INDEX ix_chat_sessions_newest ON chat_sessions (tenant_id, created_at DESC, id DESC);
CREATE INDEX ix_chat_sessions_status_newest ON chat_sessions (tenant_id, status, created_at DESC, id DESC);

-- seq is assigned from chat_sessions.last_seq inside the insert's transaction: a total, stable order.
-- The primary key is the message page's index: a page is one range scan of (tenant_id, session_id, seq),
-- forward or backward, whatever the table's size.
CREATE TABLE chat_messages (
    tenant_id   bigint      NOT NULL,
    session_id  uuid        NOT NULL,
    seq         bigint      NOT NULL,
    id          uuid        NOT NULL,
    sender_id   bigint      NOT NULL,
    message     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, session_id, seq),
    FOREIGN KEY (tenant_id, session_id) REFERENCES chat_sessions (tenant_id, id)
);

-- A cursor is a message id: this finds its seq (and proves it belongs to the tenant) in one probe.
CREATE UNIQUE INDEX ux_chat_messages_id ON chat_messages (tenant_id, id);

-- A session belongs to one tenant, so "tenant_id = ? AND session_id = ?" is no narrower than the session
-- alone. Without this the planner multiplies the two selectivities, expects a third of a page's rows, and
-- for a page in the middle of a session picks a bitmap scan plus sort over the whole rest of the session
-- instead of an index scan that stops after LIMIT rows (docs/scaling.md shows the plan).
CREATE STATISTICS st_chat_messages_session_tenant (dependencies) ON tenant_id, session_id FROM chat_messages;

-- Tenant users who wrote in a session: they, and only they, are notified of agent replies there.
CREATE TABLE session_participants (
    tenant_id   bigint NOT NULL,
    session_id  uuid   NOT NULL,
    user_id     bigint NOT NULL,
    PRIMARY KEY (tenant_id, session_id, user_id)
);

CREATE TABLE tickets (
    tenant_id    bigint      NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    agent_id     bigint,
    title        text        NOT NULL,
    category     text        NOT NULL,
    priority     text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('open', 'in_progress', 'resolved', 'closed')),
    description  text        NOT NULL,
    origin       text        NOT NULL,  -- why it was opened: 'agent_offline'
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- At most one unresolved offline ticket per agent: repeated (and concurrent) start attempts reuse it
-- instead of opening a ticket storm.
CREATE UNIQUE INDEX ux_tickets_open_offline_agent ON tickets (tenant_id, agent_id)
    WHERE origin = 'agent_offline' AND status IN ('open', 'in_progress');
CREATE INDEX ix_tickets_newest ON tickets (tenant_id, created_at DESC, id DESC);

CREATE TABLE notifications (
    tenant_id   bigint      NOT NULL,
    user_id     bigint      NOT NULL,
    id          uuid        NOT NULL,
    type        text        NOT NULL,
    session_id  uuid        NOT NULL,
    message_id  uuid        NOT NULL,
    preview     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    read_at     timestamptz,
    PRIMARY KEY (tenant_id, user_id, id)
);

-- A user's notifications newest first (keyset on (created_at, id)); the unread filter reads the same range.
CREATE INDEX ix_notifications_newest ON notifications (tenant_id, user_id, created_at DESC, id DESC);

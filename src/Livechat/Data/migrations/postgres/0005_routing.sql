-- Routing, queue and capacity (contract section 10).
-- Capacity: an agent holds at most max_sessions OPEN sessions (NULL: the setting's default). open_sessions
-- counts them; every assignment raises it with one UPDATE whose WHERE re-checks the capacity, so the row
-- (locked by the UPDATE) decides between concurrent assignments. last_assigned_at breaks routing ties.
ALTER TABLE agents ADD COLUMN max_sessions integer CHECK (max_sessions BETWEEN 1 AND 50);
ALTER TABLE agents ADD COLUMN open_sessions integer NOT NULL DEFAULT 0 CHECK (open_sessions >= 0);
ALTER TABLE agents ADD COLUMN last_assigned_at timestamptz;
UPDATE agents SET open_sessions = (
    SELECT COUNT(*) FROM chat_sessions s WHERE s.tenant_id = agents.tenant_id AND s.agent_id = agents.user_id AND s.status = 'OPEN');

-- Several OPEN sessions per agent now; the capacity rule above replaces the one-per-agent index.
DROP INDEX ux_chat_sessions_open_agent;
CREATE INDEX ix_chat_sessions_agent_open ON chat_sessions (tenant_id, agent_id, created_at) WHERE status = 'OPEN';

-- The queue: an OPEN session without an agent. Order: queue_rank (0 = handed back or requeued: the head;
-- 1 = new), then queued_at, then id. excluded_agent_id is the agent that handed it back: never routed to it.
ALTER TABLE chat_sessions ADD COLUMN queue_rank smallint;
ALTER TABLE chat_sessions ADD COLUMN queued_at timestamptz;
ALTER TABLE chat_sessions ADD COLUMN excluded_agent_id bigint;
CREATE INDEX ix_chat_sessions_queue ON chat_sessions (tenant_id, queue_rank, queued_at, id) WHERE queued_at IS NOT NULL;
-- A tenant user's most recent session: its previous agent is preferred.
CREATE INDEX ix_chat_sessions_creator ON chat_sessions (tenant_id, created_by, created_at DESC);

-- A routed start with no agent ONLINE opens (or reuses) one unresolved ticket per tenant user.
ALTER TABLE tickets ADD COLUMN requester_id bigint;
CREATE UNIQUE INDEX ux_tickets_open_no_agent ON tickets (tenant_id, requester_id)
    WHERE origin = 'no_agent_online' AND status IN ('open', 'in_progress');

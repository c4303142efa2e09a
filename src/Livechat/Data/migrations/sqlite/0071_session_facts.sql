-- The facts the reports read (contract section 20, docs/reports.md), one row per session, recorded as they
-- happen by Reports/RecordSessionFacts.cs in the transaction of the change that made them true, so a report
-- never scans messages. Each fact is written once: a later event of the same kind leaves it as it is.
--   started_at         the session's created_at
--   queued_at          when a routed start found every agent busy and queued it (not set by later requeues)
--   assigned_at        its first assignment to an agent
--   first_response_at  the first message of the agent the session had when it was sent
--   closed_at          when it was closed
--   agent_id           the last agent it was assigned to (kept when it goes back to the queue)
--   rating_score       the customer's rating, 1..5
CREATE TABLE session_facts (
    tenant_id          INTEGER NOT NULL,
    session_id         TEXT    NOT NULL,
    started_at         TEXT    NOT NULL,
    queued_at          TEXT,
    assigned_at        TEXT,
    first_response_at  TEXT,
    closed_at          TEXT,
    agent_id           INTEGER,
    rating_score       INTEGER,
    PRIMARY KEY (tenant_id, session_id)
) WITHOUT ROWID;

-- A report reads a tenant's range of starts (or closes), for every agent or one.
CREATE INDEX ix_session_facts_started ON session_facts (tenant_id, started_at);
CREATE INDEX ix_session_facts_agent_started ON session_facts (tenant_id, agent_id, started_at);
CREATE INDEX ix_session_facts_closed ON session_facts (tenant_id, closed_at) WHERE closed_at IS NOT NULL;

-- The sessions from before this migration, from what their rows and messages tell: the start, the close (a
-- closed session's updated_at is its close), its agent and that agent's first message. Their queue waits left
-- no trace, except for the sessions waiting since their start, whose wait is still running; a session opened with its agent
-- (not routed) was assigned when it started. One set-based statement: the migration runs in one transaction
-- at start-up anyway, and the first message is one range of the messages' primary key per session.
INSERT INTO session_facts (tenant_id, session_id, started_at, queued_at, assigned_at, first_response_at, closed_at, agent_id, rating_score)
SELECT s.tenant_id, s.id, s.created_at,
       CASE WHEN s.queue_rank = 1 THEN s.queued_at END,  -- queued by its start (rank 0: handed back or requeued later)
       CASE WHEN s.agent_id IS NOT NULL AND NOT s.routed THEN s.created_at END,
       (SELECT MIN(m.created_at) FROM chat_messages m
        WHERE m.tenant_id = s.tenant_id AND m.session_id = s.id AND m.sender_id = s.agent_id),
       CASE WHEN s.status = 'CLOSED' THEN s.updated_at END,
       s.agent_id,
       s.rating_score
FROM chat_sessions s
-- Nothing yet when the migration runs; a session recorded already keeps its facts if this statement runs again.
WHERE NOT EXISTS (SELECT 1 FROM session_facts f WHERE f.tenant_id = s.tenant_id AND f.session_id = s.id);

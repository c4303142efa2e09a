-- A closed session's number of messages, kept with its facts (written by the close, Reports/RecordSessionFacts.cs):
-- a report counted them from chat_sessions.last_seq, a join with the session's row per session. A closed session
-- takes no more messages, so the count is final; a report looks up only the sessions still open (messages IS NULL),
-- the few most recent ones.
ALTER TABLE session_facts ADD COLUMN messages bigint;

UPDATE session_facts f SET messages = s.last_seq
FROM chat_sessions s
WHERE s.tenant_id = f.tenant_id AND s.id = f.session_id AND f.closed_at IS NOT NULL;

-- The index a report reads a range of starts from holds every column it reads of a session, the count too.
DROP INDEX ix_session_facts_started;
CREATE INDEX ix_session_facts_started ON session_facts (tenant_id, started_at)
    INCLUDE (agent_id, rating_score, first_response_seconds, resolution_seconds, queue_wait_seconds, messages);

-- A report's count of closes reads the agent of each close too: the index holds it (an index-only scan once vacuumed).
DROP INDEX ix_session_facts_closed;
CREATE INDEX ix_session_facts_closed ON session_facts (tenant_id, closed_at) INCLUDE (agent_id) WHERE closed_at IS NOT NULL;

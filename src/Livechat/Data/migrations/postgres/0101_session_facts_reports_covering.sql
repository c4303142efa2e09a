-- The indexes a report reads its sessions from hold every column it reads of them, the session's id too (the lookup
-- of an open session's messages, Reports/ReportStore.cs), so a vacuumed table answers from the index alone:
--   ix_session_facts_started        the range of starts, for every agent (summary, daily)
--   ix_session_facts_agent_started  the range of starts by agent (the agents report reads it in the agents' order,
--                                   which its percentiles need; without the columns it read the table row by row,
--                                   half of a year's agents report, docs/performance.md session 25)
-- PostgreSQL only: SQLite's table is WITHOUT ROWID, so its indexes hold the session's id already, and it reads a
-- year of starts from its covering ix_session_facts_started and sorts them by agent itself.
DROP INDEX ix_session_facts_started;
CREATE INDEX ix_session_facts_started ON session_facts (tenant_id, started_at)
    INCLUDE (session_id, agent_id, rating_score, first_response_seconds, resolution_seconds, queue_wait_seconds, messages);

DROP INDEX ix_session_facts_agent_started;
CREATE INDEX ix_session_facts_agent_started ON session_facts (tenant_id, agent_id, started_at)
    INCLUDE (session_id, rating_score, first_response_seconds, resolution_seconds, queue_wait_seconds, messages);

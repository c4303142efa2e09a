-- Each session's durations, kept with its facts (ADR 0035): a report's percentiles sort these numbers instead of
-- working out every session's durations from its times. Written with the fact that ends each
-- (Reports/RecordSessionFacts.cs), in seconds to the microsecond; null until then:
--   first_response_seconds  first_response_at - started_at
--   resolution_seconds      closed_at - started_at
--   queue_wait_seconds      assigned_at - queued_at (a session that waited in the queue and was then assigned)
ALTER TABLE session_facts ADD COLUMN first_response_seconds double precision;
ALTER TABLE session_facts ADD COLUMN resolution_seconds double precision;
ALTER TABLE session_facts ADD COLUMN queue_wait_seconds double precision;

-- The sessions recorded before.
UPDATE session_facts SET
    first_response_seconds = CAST(EXTRACT(EPOCH FROM (first_response_at - started_at)) AS double precision),
    resolution_seconds = CAST(EXTRACT(EPOCH FROM (closed_at - started_at)) AS double precision),
    queue_wait_seconds = CAST(EXTRACT(EPOCH FROM (assigned_at - queued_at)) AS double precision)
WHERE first_response_seconds IS NULL AND resolution_seconds IS NULL AND queue_wait_seconds IS NULL;

-- A report reads a range of starts and, for each session, only these columns: the index holds them all, so a
-- vacuumed table answers from the index alone.
DROP INDEX ix_session_facts_started;
CREATE INDEX ix_session_facts_started ON session_facts (tenant_id, started_at)
    INCLUDE (agent_id, rating_score, first_response_seconds, resolution_seconds, queue_wait_seconds);

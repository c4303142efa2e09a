-- Each session's durations, kept with its facts (ADR 0035): a report's percentiles sort these numbers instead of
-- working out every session's durations from its times, which cost SQLite as much as everything else a report
-- over a year did. Written with the fact that ends each (Reports/RecordSessionFacts.cs), in seconds to the
-- microsecond; null until then:
--   first_response_seconds  first_response_at - started_at
--   resolution_seconds      closed_at - started_at
--   queue_wait_seconds      assigned_at - queued_at (a session that waited in the queue and was then assigned)
ALTER TABLE session_facts ADD COLUMN first_response_seconds REAL;
ALTER TABLE session_facts ADD COLUMN resolution_seconds REAL;
ALTER TABLE session_facts ADD COLUMN queue_wait_seconds REAL;

-- The sessions recorded before: their times are yyyy-MM-ddTHH:mm:ss.ffffffZ; julianday keeps the milliseconds, the text the rest.
UPDATE session_facts SET
    first_response_seconds = ((ROUND((julianday(substr(first_response_at, 1, 23)) - julianday(substr(started_at, 1, 23))) * 86400000) * 1000
        + CAST(substr(first_response_at, 24, 3) AS INTEGER) - CAST(substr(started_at, 24, 3) AS INTEGER)) / 1000000.0),
    resolution_seconds = ((ROUND((julianday(substr(closed_at, 1, 23)) - julianday(substr(started_at, 1, 23))) * 86400000) * 1000
        + CAST(substr(closed_at, 24, 3) AS INTEGER) - CAST(substr(started_at, 24, 3) AS INTEGER)) / 1000000.0),
    queue_wait_seconds = ((ROUND((julianday(substr(assigned_at, 1, 23)) - julianday(substr(queued_at, 1, 23))) * 86400000) * 1000
        + CAST(substr(assigned_at, 24, 3) AS INTEGER) - CAST(substr(queued_at, 24, 3) AS INTEGER)) / 1000000.0)
WHERE first_response_seconds IS NULL AND resolution_seconds IS NULL AND queue_wait_seconds IS NULL;

-- A report reads a range of starts and, for each session, only these columns: the index holds them all, so it never
-- looks a session up in the table (a lookup by its id for each session was a third of a report's time).
DROP INDEX ix_session_facts_started;
CREATE INDEX ix_session_facts_started ON session_facts
    (tenant_id, started_at, agent_id, rating_score, first_response_seconds, resolution_seconds, queue_wait_seconds);

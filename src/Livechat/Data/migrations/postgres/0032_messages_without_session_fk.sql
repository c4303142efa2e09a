-- A message's session is checked by the one statement that inserts messages: it selects the session row
-- (tenant, id, status = 'OPEN') that the send's bump has just locked, so it inserts nothing for a session
-- that does not exist; and sessions are never deleted. The foreign key checked the same thing again with a
-- trigger and a query per message (FOR KEY SHARE on a row the transaction already holds): on PostgreSQL
-- about a tenth of the database's time per message. SQLite checks a foreign key in-process, as one index
-- lookup, and keeps it (dropping it there would mean rebuilding the table).
ALTER TABLE chat_messages DROP CONSTRAINT chat_messages_tenant_id_session_id_fkey;

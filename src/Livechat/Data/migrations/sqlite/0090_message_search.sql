-- Contract section 19: full-text search of messages (ADR 0038, docs/search.md). A contentless FTS5 table (the
-- text stays in chat_messages only; search builds its highlight from there) whose rowid is the message's
-- search_row: minus its creation time in microseconds times 1,000, minus a count within that microsecond, so the
-- index walks its own rowids upwards (FTS5's fast direction) newest first and stops after a page. `tenant` holds one token, 't' and the tenant id, so a
-- query's first condition is the tenant. The message's insert writes both, in its transaction
-- (Messages/MessageSearchIndex.cs); contentless_delete lets an erasure remove an entry by its rowid.
ALTER TABLE chat_messages ADD COLUMN search_row INTEGER;
-- Maps an entry back to its message, finds the next free row of a microsecond, and finds the rows the
-- backfill has still to do (search_row IS NULL: rows from before this migration; Search/SearchBackfill.cs).
CREATE UNIQUE INDEX ux_chat_messages_search_row ON chat_messages (search_row);

CREATE VIRTUAL TABLE message_search USING fts5 (
    tenant, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

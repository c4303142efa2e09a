-- Contract section 19: full-text search of messages (ADR 0038, docs/search.md). Each message carries its own
-- tsvector, written by its insert (Messages/MessageSearchIndex.cs); the GIN index leads with tenant_id (btree_gin),
-- so one tenant's search reads only its own entries. The configuration is `simple` (lower case, no stemming: an
-- Indonesian "kasir" stays "kasir") after `unaccent` ("café" is "cafe"). unaccent and btree_gin ship with
-- PostgreSQL's contrib (Debian's postgresql package); both are trusted extensions (PostgreSQL 13+), so the
-- database's owner may create them without being a superuser.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TEXT SEARCH CONFIGURATION livechat_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION livechat_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part, numword, numhword, hword_numpart
    WITH unaccent, simple;

-- A column without a default is added without rewriting the table (no long lock). Rows from before this
-- migration have NULL: the search backfill (Search/SearchBackfill.cs) fills them in small batches after start.
-- Not a generated column: adding one rewrites the whole table under an exclusive lock.
ALTER TABLE chat_messages ADD COLUMN search_vector tsvector;

-- Built while every vector is NULL, so it is quick even on a large table; the backfill's updates then add to it.
CREATE INDEX ix_chat_messages_search ON chat_messages USING gin (tenant_id, search_vector);

-- Newest first (created_at, id) within a tenant: for a common word the planner walks this backwards and stops
-- after a page instead of sorting every match.
CREATE INDEX ix_chat_messages_newest ON chat_messages (tenant_id, created_at DESC, id DESC);

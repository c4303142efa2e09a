-- Search (contract section 19, ADR 0052): every word of the index carries its tenant, `42:kasir`, so the GIN index
-- holds one list of messages per tenant and word. A tenant's search reads its own lists only, and a large tenant's
-- AND of a common and a rare word no longer advances a list of every message of the tenant (the tenant key of
-- 0090's GIN (tenant_id, search_vector)) to each match.
--
-- The words as the index stores them: the message's tsvector (MessageSearchIndex.PostgresWords), each lexeme
-- prefixed with the tenant's id and a colon. A lexeme never holds an ASCII space (the parser splits there), so in
-- the tsvector's text every lexeme, and only a lexeme, starts with a quote after a space.
CREATE FUNCTION livechat_search_words(tenant bigint, words tsvector) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace(' ' || words::text, ' ''', ' ''' || tenant || ':')::tsvector;

-- The query of a search as the index stores words: each quoted lexeme of the tsquery's text (a quote inside one is
-- doubled) prefixed the same way; the operators, phrases and prefix marks (`:*`) are outside the quotes and stay.
CREATE FUNCTION livechat_search_query(tenant bigint, query tsquery) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN regexp_replace(query::text, '''((?:[^'']|'''')*)''', '''' || tenant || ':\1''', 'g')::tsquery;

-- NULL: not indexed yet. The backfill (Search/SearchBackfill.cs) fills the messages stored before this migration
-- in small batches after start, found through ix_chat_messages_unsearched, which is empty once it is done (an
-- erased message gets an empty vector, not NULL). Until then those older messages are not found; new ones are,
-- from their 201. No default, so adding the column does not rewrite the table.
ALTER TABLE chat_messages ADD COLUMN search_words tsvector;

-- Both built while every row's words are NULL: a GIN index of NULLs and a btree of the keys, about a second each
-- at a million messages, during which writes to chat_messages wait.
CREATE INDEX ix_chat_messages_search_words ON chat_messages USING gin (search_words);
CREATE INDEX ix_chat_messages_unsearched ON chat_messages (tenant_id, session_id, seq) WHERE search_words IS NULL;

DROP INDEX ix_chat_messages_search;
ALTER TABLE chat_messages DROP COLUMN search_vector;

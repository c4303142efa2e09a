-- Contract section 19, issue 26: the search index's whole words, in a plain table (ADR 0044, docs/search.md). A query's
-- last word, a prefix, is searched as the words it begins, read here by a range scan of the primary key: the
-- fts5vocab table of 0091 counted each word's rows as it read it (80 to 240 ms for a common word at a million
-- messages). Only the words FTS5 stores as ASCII (letters a-z and digits): a prefix beyond ASCII is searched as one.
-- The send writes its message's words in its transaction (Messages/MessageSearchIndex.cs, Messages/IndexWords.cs).
CREATE TABLE message_search_words (
    word TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

-- Words of forgotten messages (erasure, retention: Privacy/Forgetting.cs) that may no longer occur in the index: the
-- upkeep (Search/SearchUpkeep.cs) removes from message_search_words those no message holds any more, since a word
-- can be personal data (a name, a phone number).
CREATE TABLE message_search_words_to_check (
    word TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

-- The words already indexed, read once from the FTS5 index itself: its body column's terms (not the tenant tokens),
-- those of letters a-z and digits only. About 2 s at a million messages (docs/performance.md, session 26); messages
-- from before 0090 get theirs from the backfill, which writes them as the send does.
CREATE VIRTUAL TABLE temp.message_search_columns USING fts5vocab (main, message_search, 'col');
INSERT INTO message_search_words (word)
SELECT term FROM temp.message_search_columns WHERE col = 'body' AND term NOT GLOB '*[^0-9a-z]*';
DROP TABLE temp.message_search_columns;

-- FTS5 looks each word of a query up in every segment (b-tree) of its index, and a prefix is an OR of up to 200
-- words: Search/SearchUpkeep.cs merges while a level holds two segments (the default, 4, left 18 segments at a
-- million messages). A setting stored in the index's own config table.
INSERT INTO message_search (message_search, rank) VALUES ('usermerge', 2);

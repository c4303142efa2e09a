-- The words of the search index, in order (an fts5vocab table reads the FTS5 index itself: nothing is stored).
-- A query's last word, a prefix, is looked up here and searched as the whole words it begins (when they are few):
-- FTS5 merges every doclist a prefix matches before it returns a row, which for a common word took seconds at a
-- million messages, while an OR of whole words is walked a page at a time (Search/SearchStore.cs, ADR 0038).
CREATE VIRTUAL TABLE message_search_vocabulary USING fts5vocab (message_search, 'row');

-- How many attachments a message carries (contract section 15), NULL for none: a page of messages reads the
-- attachments table only when one of its messages has some, so a conversation without files costs what it
-- did before (docs/decisions/0034-sending-attachments.md). A nullable column without a default: no rewrite.
ALTER TABLE chat_messages ADD COLUMN attachment_count integer;

-- Contract section 18 (v1.2): ChatMessage.sender_name, the sender's remembered name when the message was sent.
-- Kept on the row by the insert itself (one primary-key lookup in user_names), so a page of messages, a replay or
-- a webhook reads it with no join per message. Messages sent before this migration carry none: a client falls
-- back on the session's customer_name/agent_name. A nullable column without a default adds no table rewrite.
ALTER TABLE chat_messages ADD COLUMN sender_name TEXT;

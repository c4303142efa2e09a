-- Sending moves the sender's read marker to its message (contract section 11), in the message's own
-- transaction, and markers only move forward: so none of a participant's own messages is after its marker,
-- except those sent before markers existed (0020). Those senders get here the marker sending would have
-- given them. Then unread_count is last_seq minus the marker (Reading/ReadMarkers.cs), and the index that
-- found a caller's own messages after its marker, which every message paid a page for, goes.
INSERT INTO read_markers (tenant_id, session_id, user_id, last_read_seq, last_read_message_id, read_at)
SELECT m.tenant_id, m.session_id, m.sender_id, m.seq, m.id, m.created_at
FROM chat_messages m
WHERE m.seq = (SELECT MAX(o.seq) FROM chat_messages o
               WHERE o.tenant_id = m.tenant_id AND o.session_id = m.session_id AND o.sender_id = m.sender_id)
ON CONFLICT (tenant_id, session_id, user_id) DO UPDATE
    SET last_read_seq = excluded.last_read_seq, last_read_message_id = excluded.last_read_message_id, read_at = excluded.read_at
    WHERE read_markers.last_read_seq < excluded.last_read_seq;

DROP INDEX ix_chat_messages_sender;

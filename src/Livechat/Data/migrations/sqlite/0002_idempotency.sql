-- Idempotency (contract section 9): the first response to a POST with an Idempotency-Key, per tenant and
-- user. The row is inserted in the same transaction as the write it guards (status_code NULL = in flight),
-- and completed with the response right after; rows older than 24 h are expired and cleaned up.
CREATE TABLE idempotency_keys (
    tenant_id      INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    key            TEXT    NOT NULL,
    request_hash   TEXT    NOT NULL,
    status_code    INTEGER,
    response_body  TEXT,
    created_at     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, user_id, key)
) WITHOUT ROWID;

CREATE INDEX ix_idempotency_keys_created ON idempotency_keys (created_at);

-- A frontend's own id for an optimistic message: unique per session, so a resend cannot duplicate it.
ALTER TABLE chat_messages ADD COLUMN client_message_id TEXT;

CREATE UNIQUE INDEX ux_chat_messages_client_id ON chat_messages (tenant_id, session_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

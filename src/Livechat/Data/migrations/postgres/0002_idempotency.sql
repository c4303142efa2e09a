-- Idempotency (contract section 9): the first response to a POST with an Idempotency-Key, per tenant and
-- user. The row is inserted in the same transaction as the write it guards (status_code NULL = in flight),
-- and completed with the response right after; rows older than 24 h are expired and cleaned up.
-- Concurrent requests with one key meet at the primary key: the second waits for the first's commit.
CREATE TABLE idempotency_keys (
    tenant_id      bigint      NOT NULL,
    user_id        bigint      NOT NULL,
    key            text        NOT NULL,
    request_hash   text        NOT NULL,
    status_code    integer,
    response_body  text,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id, key)
);

CREATE INDEX ix_idempotency_keys_created ON idempotency_keys (created_at);

-- A frontend's own id for an optimistic message: unique per session, so a resend cannot duplicate it.
ALTER TABLE chat_messages ADD COLUMN client_message_id text;

CREATE UNIQUE INDEX ux_chat_messages_client_id ON chat_messages (tenant_id, session_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

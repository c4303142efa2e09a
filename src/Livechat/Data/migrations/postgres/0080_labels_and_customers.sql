-- Contract section 18 (v1.2): a session's customer, its labels, and the list filters a desk needs.
-- customer_id: the tenant user who started the session (NULL when an agent started it). A tenant user's start
-- makes it a participant in the same transaction, so that row tells the sessions from before this migration.
ALTER TABLE chat_sessions ADD COLUMN customer_id bigint;
UPDATE chat_sessions SET customer_id = created_by
WHERE EXISTS (SELECT 1 FROM session_participants p
              WHERE p.tenant_id = chat_sessions.tenant_id AND p.session_id = chat_sessions.id AND p.user_id = chat_sessions.created_by);

-- labels: the session's labels as ChatSession.labels shows them (sorted, one space between), NULL when none, so
-- every read of a session shows them without a join. session_labels holds the same labels one per row, for the
-- list filter and GET /livechat/labels; the one PUT that replaces them writes both (Labels/LabelStore.cs).
ALTER TABLE chat_sessions ADD COLUMN labels text;
CREATE TABLE session_labels (
    tenant_id   bigint NOT NULL,
    session_id  uuid   NOT NULL,
    label       text   COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, session_id, label),
    FOREIGN KEY (tenant_id, session_id) REFERENCES chat_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_session_labels_label ON session_labels (tenant_id, label, session_id);

-- The list filters, newest first (NewestFirst's keyset) within each.
CREATE INDEX ix_chat_sessions_agent_newest ON chat_sessions (tenant_id, agent_id, created_at DESC, id DESC);
CREATE INDEX ix_chat_sessions_customer_newest ON chat_sessions (tenant_id, customer_id, created_at DESC, id DESC) WHERE customer_id IS NOT NULL;

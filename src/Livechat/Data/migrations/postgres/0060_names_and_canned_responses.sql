-- Contract sections 17 and 18 (v1.2). The latest name each user's token carried (the standard `name` claim), per
-- tenant and user whatever its role, so a session, a message or an agent can show it with one key lookup.
CREATE TABLE user_names (
    tenant_id  bigint      NOT NULL REFERENCES tenants (id),
    user_id    bigint      NOT NULL,
    name       text        NOT NULL,
    named_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- An agent's saved answers. The unique index decides between two creates (or renames) of one shortcut.
-- title_words is the title as search reads it: lower case, one space before each word (Canned/CannedText.cs).
-- Shortcuts compare byte by byte ("C"), as on SQLite, so both list them in the same order.
CREATE TABLE canned_responses (
    tenant_id    bigint      NOT NULL REFERENCES tenants (id),
    id           uuid        NOT NULL,
    shortcut     text        COLLATE "C" NOT NULL,
    title        text        NOT NULL,
    title_words  text        NOT NULL,
    body         text        NOT NULL,
    created_by   bigint      NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX ux_canned_responses_shortcut ON canned_responses (tenant_id, shortcut);

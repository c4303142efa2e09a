-- Contract sections 17 and 18 (v1.2). The latest name each user's token carried (the standard `name` claim), per
-- tenant and user whatever its role, so a session, a message or an agent can show it with one key lookup.
CREATE TABLE user_names (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    named_at   TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
) WITHOUT ROWID;

-- An agent's saved answers. The unique index decides between two creates (or renames) of one shortcut.
-- title_words is the title as search reads it: lower case, one space before each word (Canned/CannedText.cs).
CREATE TABLE canned_responses (
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    id           TEXT    NOT NULL,
    shortcut     TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    title_words  TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    created_by   INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX ux_canned_responses_shortcut ON canned_responses (tenant_id, shortcut);

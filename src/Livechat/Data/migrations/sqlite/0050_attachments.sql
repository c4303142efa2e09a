-- Attachments (contract section 15). A row is an upload's metadata; its bytes live in the configured store
-- (a file on disk, or attachment_chunks). message_id stays NULL while the upload is staged: a message send
-- takes it with one UPDATE that checks ready, uploader, session and message_id IS NULL. scan_lease_until is
-- an instance's claim on a scanning upload, so two instances never scan one upload at once.
CREATE TABLE attachments (
    tenant_id         INTEGER NOT NULL REFERENCES tenants (id),
    id                TEXT    NOT NULL,
    session_id        TEXT    NOT NULL,
    uploader_id       INTEGER NOT NULL,
    file_name         TEXT    NOT NULL,
    content_type      TEXT    NOT NULL,
    size              INTEGER NOT NULL,
    sha256            TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('ready', 'scanning', 'rejected')),
    created_at        TEXT    NOT NULL,
    message_id        TEXT,
    scan_lease_until  TEXT,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

-- A signed download link names only the attachment's id (contract section 15): ids are UUIDv7, unique anyway.
CREATE UNIQUE INDEX ux_attachments_id ON attachments (id);
-- A message's files, and the staged uploads the clean-up and the scanner look for.
CREATE INDEX ix_attachments_message ON attachments (tenant_id, message_id) WHERE message_id IS NOT NULL;
CREATE INDEX ix_attachments_staged ON attachments (created_at) WHERE message_id IS NULL;
CREATE INDEX ix_attachments_scanning ON attachments (created_at) WHERE status = 'scanning';

-- The bytes a tenant stores (its quota): one row per tenant, raised by a conditional UPDATE in the
-- transaction that records an upload, so two concurrent uploads can never pass the quota together.
CREATE TABLE attachment_usage (
    tenant_id  INTEGER NOT NULL PRIMARY KEY REFERENCES tenants (id),
    bytes      INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0)
);

-- The database store's bytes (Livechat:Attachments:Store = database; PostgreSQL only, kept here so both
-- schemas match).
CREATE TABLE attachment_chunks (
    tenant_id      INTEGER NOT NULL,
    attachment_id  TEXT    NOT NULL,
    seq            INTEGER NOT NULL,
    data           BLOB    NOT NULL,
    PRIMARY KEY (tenant_id, attachment_id, seq)
) WITHOUT ROWID;

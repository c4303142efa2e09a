-- Attachments (contract section 15). A row is an upload's metadata; its bytes live in the configured store
-- (a file on disk, or attachment_chunks). message_id stays NULL while the upload is staged: a message send
-- takes it with one UPDATE that checks ready, uploader, session and message_id IS NULL. scan_lease_until is
-- an instance's claim on a scanning upload, so two instances never scan one upload at once.
CREATE TABLE attachments (
    tenant_id         bigint      NOT NULL REFERENCES tenants (id),
    id                uuid        NOT NULL,
    session_id        uuid        NOT NULL,
    uploader_id       bigint      NOT NULL,
    file_name         text        NOT NULL,
    content_type      text        NOT NULL,
    size              bigint      NOT NULL,
    sha256            text        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('ready', 'scanning', 'rejected')),
    created_at        timestamptz NOT NULL,
    message_id        uuid,
    scan_lease_until  timestamptz,
    PRIMARY KEY (tenant_id, id)
);

-- A signed download link names only the attachment's id (contract section 15): ids are UUIDv7, unique anyway.
CREATE UNIQUE INDEX ux_attachments_id ON attachments (id);
-- A message's files, and the staged uploads the clean-up and the scanner look for.
CREATE INDEX ix_attachments_message ON attachments (tenant_id, message_id) WHERE message_id IS NOT NULL;
CREATE INDEX ix_attachments_staged ON attachments (created_at) WHERE message_id IS NULL;
CREATE INDEX ix_attachments_scanning ON attachments (created_at) WHERE status = 'scanning';

-- The bytes a tenant stores (its quota): one row per tenant, raised by a conditional UPDATE in the
-- transaction that records an upload. The row lock makes a concurrent upload wait, and PostgreSQL then
-- re-checks the WHERE against the committed total, so two uploads can never pass the quota together.
CREATE TABLE attachment_usage (
    tenant_id  bigint NOT NULL PRIMARY KEY REFERENCES tenants (id),
    bytes      bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0)
);

-- The database store's bytes (Livechat:Attachments:Store = database): 256 KiB per row, written in one
-- transaction per upload and read one row at a time (docs/decisions/0027-attachments.md).
CREATE TABLE attachment_chunks (
    tenant_id      bigint  NOT NULL,
    attachment_id  uuid    NOT NULL,
    seq            integer NOT NULL,
    data           bytea   NOT NULL,
    PRIMARY KEY (tenant_id, attachment_id, seq)
);
-- The chunks are compressed images and documents already: no point in TOAST compressing them again.
ALTER TABLE attachment_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

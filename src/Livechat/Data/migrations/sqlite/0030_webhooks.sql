-- Webhooks (contract section 13): a tenant's endpoints, and the outbox that feeds them. An event and its
-- deliveries are inserted in the transaction of the change they describe (see migrations/postgres).
CREATE TABLE webhooks (
    tenant_id               INTEGER NOT NULL REFERENCES tenants (id),
    id                      TEXT    NOT NULL,
    url                     TEXT    NOT NULL,
    events                  TEXT    NOT NULL,  -- space-separated event types, or '*'
    description             TEXT,
    enabled                 INTEGER NOT NULL DEFAULT 1,
    disabled_reason         TEXT,
    secret                  TEXT    NOT NULL,
    previous_secret         TEXT,
    previous_secret_until   TEXT,
    created_at              TEXT    NOT NULL,
    updated_at              TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

CREATE TABLE webhook_events (
    tenant_id   INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
    tenant_id         INTEGER NOT NULL,
    id                TEXT    NOT NULL,
    webhook_id        TEXT    NOT NULL,
    event_id          TEXT    NOT NULL,
    event_type        TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_status_code  INTEGER,
    last_error        TEXT,
    next_attempt_at   TEXT,
    locked_by         TEXT,
    locked_until      TEXT,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, event_id) REFERENCES webhook_events (tenant_id, id)
) WITHOUT ROWID;

CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- One webhook's pending deliveries: its next due one, and its attempts in flight (the per-webhook limit).
CREATE INDEX ix_webhook_deliveries_webhook_due ON webhook_deliveries (tenant_id, webhook_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_webhook_leased ON webhook_deliveries (tenant_id, webhook_id, locked_until) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_newest ON webhook_deliveries (tenant_id, webhook_id, created_at DESC, id DESC);
CREATE INDEX ix_webhook_deliveries_event ON webhook_deliveries (tenant_id, event_id);
CREATE INDEX ix_webhook_events_created ON webhook_events (created_at);

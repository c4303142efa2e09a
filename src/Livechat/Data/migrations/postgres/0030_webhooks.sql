-- Webhooks (contract section 13): a tenant's endpoints, and the outbox that feeds them. An event and its
-- deliveries are inserted in the transaction of the change they describe, so a rolled-back change leaves no
-- trace here and a committed one is delivered even if the process dies right after the commit.
CREATE TABLE webhooks (
    tenant_id               bigint      NOT NULL REFERENCES tenants (id),
    id                      uuid        NOT NULL,
    url                     text        NOT NULL,
    -- The subscribed event types, space-separated, or '*'. Matched with LIKE in the outbox's INSERT ... SELECT.
    events                  text        NOT NULL,
    description             text,
    enabled                 boolean     NOT NULL DEFAULT TRUE,
    disabled_reason         text,
    -- Kept as written: the service must sign with it. previous_secret signs alongside until previous_secret_until.
    secret                  text        NOT NULL,
    previous_secret         text,
    previous_secret_until   timestamptz,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- One row per event that at least one webhook wanted; payload is the exact body every delivery sends.
CREATE TABLE webhook_events (
    tenant_id   bigint      NOT NULL,
    id          uuid        NOT NULL,
    type        text        NOT NULL,
    payload     text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- One row per (event, webhook) and per redelivery. locked_by/locked_until is the lease of the instance that
-- is attempting it: claimed with FOR UPDATE SKIP LOCKED, so one instance at a time; a crashed instance's
-- lease simply runs out.
CREATE TABLE webhook_deliveries (
    tenant_id         bigint      NOT NULL,
    id                uuid        NOT NULL,
    webhook_id        uuid        NOT NULL,
    event_id          uuid        NOT NULL,
    event_type        text        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts          integer     NOT NULL DEFAULT 0,
    last_status_code  integer,
    last_error        text,
    next_attempt_at   timestamptz,
    locked_by         uuid,
    locked_until      timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, event_id) REFERENCES webhook_events (tenant_id, id)
);

-- The worker's scan: pending deliveries by due time, whatever the tenant.
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- One webhook's pending deliveries: its next due one, and its attempts in flight (the per-webhook limit).
CREATE INDEX ix_webhook_deliveries_webhook_due ON webhook_deliveries (tenant_id, webhook_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_webhook_leased ON webhook_deliveries (tenant_id, webhook_id, locked_until) WHERE status = 'pending';
-- The delivery log of one webhook, newest first (keyset on (created_at, id)).
CREATE INDEX ix_webhook_deliveries_newest ON webhook_deliveries (tenant_id, webhook_id, created_at DESC, id DESC);
-- Retention: finished deliveries by age, and an event's deliveries.
CREATE INDEX ix_webhook_deliveries_event ON webhook_deliveries (tenant_id, event_id);
CREATE INDEX ix_webhook_events_created ON webhook_events (created_at);

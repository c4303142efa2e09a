-- Open hub connections per agent and service instance, so presence counts connections across instances:
-- an agent stays ONLINE while any live instance holds a connection of it. Each instance refreshes
-- heartbeat_at for its rows; rows of an instance that stopped refreshing (it crashed) are swept.
CREATE TABLE agent_connections (
    tenant_id     bigint      NOT NULL,
    user_id       bigint      NOT NULL,
    instance_id   text        NOT NULL,
    connections   integer     NOT NULL,
    heartbeat_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id, instance_id)
);

CREATE INDEX ix_agent_connections_instance ON agent_connections (instance_id);
CREATE INDEX ix_agent_connections_heartbeat ON agent_connections (heartbeat_at);

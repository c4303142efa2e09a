-- Open hub connections per agent and service instance, so presence counts connections across instances:
-- an agent stays ONLINE while any live instance holds a connection of it. Each instance refreshes
-- heartbeat_at for its rows; rows of an instance that stopped refreshing (it crashed) are swept.
CREATE TABLE agent_connections (
    tenant_id     INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    instance_id   TEXT    NOT NULL,
    connections   INTEGER NOT NULL,
    heartbeat_at  TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, user_id, instance_id)
) WITHOUT ROWID;

CREATE INDEX ix_agent_connections_instance ON agent_connections (instance_id);
CREATE INDEX ix_agent_connections_heartbeat ON agent_connections (heartbeat_at);

-- REST API: bearer tokens with roles, and the dispositions agents give when they complete a
-- task. Portable SQL (SQLite and PostgreSQL). Times are unix milliseconds.
--
-- api_tokens.token_hash: hex SHA-256 of the secret (tokens are 32 random bytes, so a plain
-- hash is enough; the secret itself is shown once and never stored). role: agent,
-- supervisor, admin or integration; agent: the extension number an agent token acts for.
-- Ids 'config:<name>' come from the config file and are re-synced at every start.

CREATE TABLE api_tokens (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    agent         TEXT,
    token_hash    TEXT    NOT NULL UNIQUE,
    created_at_ms BIGINT  NOT NULL,
    revoked_at_ms BIGINT
);

-- One row per completed task that an agent closed through the API.
CREATE TABLE dispositions (
    id            TEXT    PRIMARY KEY,
    task_id       BIGINT  NOT NULL,
    agent         TEXT,
    code          TEXT    NOT NULL,
    note          TEXT,
    created_at_ms BIGINT  NOT NULL
);

CREATE INDEX dispositions_task ON dispositions (task_id);
CREATE INDEX cdrs_caller ON cdrs (caller);
CREATE INDEX cdrs_callee ON cdrs (callee);
CREATE INDEX tasks_customer ON tasks (customer);

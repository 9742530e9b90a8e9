-- Registrar bindings (survive restarts) and call detail records.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are unix seconds (expires_at)
-- or unix milliseconds (*_at_ms).

CREATE TABLE registrations (
    aor         TEXT    NOT NULL,
    contact     TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL,
    call_id     TEXT    NOT NULL,
    cseq        BIGINT  NOT NULL,
    q_milli     BIGINT,
    transport   TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    instance    TEXT,
    user_agent  TEXT,
    PRIMARY KEY (aor, contact)
);

CREATE TABLE cdrs (
    id             TEXT    PRIMARY KEY,
    call_id        TEXT    NOT NULL,
    caller         TEXT    NOT NULL,
    callee         TEXT    NOT NULL,
    origin         TEXT    NOT NULL,
    started_at_ms  BIGINT  NOT NULL,
    answered_at_ms BIGINT,
    ended_at_ms    BIGINT  NOT NULL,
    duration_ms    BIGINT  NOT NULL,
    billsec_ms     BIGINT  NOT NULL,
    result         TEXT    NOT NULL,
    hangup_cause   TEXT    NOT NULL,
    hangup_side    TEXT    NOT NULL
);

CREATE INDEX cdrs_started ON cdrs (started_at_ms);
CREATE INDEX cdrs_call_id ON cdrs (call_id);

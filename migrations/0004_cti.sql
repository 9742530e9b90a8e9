-- Webhook subscriptions and the transactional outbox of events to deliver to them.
-- Portable SQL (SQLite and PostgreSQL). Times are unix milliseconds.
--
-- webhook_subscriptions.events: '*' for every event, else the kinds between commas, with a
-- leading and trailing comma (',call.ended,task.completed,') so one LIKE finds a kind.
-- next_seq: the last sequence number handed out; bumped (UPDATE ... RETURNING) in the same
-- transaction that writes the outbox rows, which also serialises concurrent writers.
--
-- outbox: one row per (event, subscription). seq orders the rows of one subscription; the
-- delivery worker sends only the lowest undelivered seq of each subscription, so the next
-- event waits until the previous one is delivered. body is the exact JSON that is signed and
-- sent, on every attempt.

CREATE TABLE webhook_subscriptions (
    id            TEXT    PRIMARY KEY,
    url           TEXT    NOT NULL,
    secret        TEXT    NOT NULL,
    events        TEXT    NOT NULL,
    active        BIGINT  NOT NULL,
    next_seq      BIGINT  NOT NULL,
    created_at_ms BIGINT  NOT NULL
);

CREATE TABLE outbox (
    id                 TEXT    PRIMARY KEY,
    subscription_id    TEXT    NOT NULL,
    seq                BIGINT  NOT NULL,
    event_id           TEXT    NOT NULL,
    event_kind         TEXT    NOT NULL,
    body               TEXT    NOT NULL,
    created_at_ms      BIGINT  NOT NULL,
    attempts           BIGINT  NOT NULL,
    next_attempt_at_ms BIGINT  NOT NULL,
    delivered_at_ms    BIGINT,
    last_error         TEXT,
    UNIQUE (subscription_id, seq)
);

CREATE INDEX outbox_pending ON outbox (subscription_id, delivered_at_ms, seq);

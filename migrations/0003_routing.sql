-- Routing: tasks that are not live calls (callbacks, voicemails, follow-ups, later chats and
-- e-mails), written before they are acknowledged so that they survive a crash, and the queue
-- log from which reports compute service level, ASA, AHT and abandonment.
-- Portable SQL (SQLite and PostgreSQL). Times are unix milliseconds.
--
-- tasks.state: 'waiting' (queued or being offered/handled), 'retry' (a callback waiting for
-- next_attempt_at_ms), and the closed states 'done', 'failed' (callback attempts used up),
-- 'cancelled'. skills and attributes are JSON objects (name -> level, name -> text).

CREATE TABLE tasks (
    id                 BIGINT  PRIMARY KEY,
    channel            TEXT    NOT NULL,
    queue              TEXT    NOT NULL,
    customer           TEXT,
    priority           BIGINT  NOT NULL,
    skills             TEXT    NOT NULL,
    attributes         TEXT    NOT NULL,
    arrived_at_ms      BIGINT  NOT NULL,
    deadline_ms        BIGINT,
    state              TEXT    NOT NULL,
    attempts           BIGINT  NOT NULL,
    next_attempt_at_ms BIGINT,
    updated_at_ms      BIGINT  NOT NULL
);

CREATE INDEX tasks_state ON tasks (state);

-- One row per routing event. Task events: enqueue (a new contact), requeue (restored after a
-- restart, a callback retry, a kept place), offer, reject, ring_no_answer, withdraw, answer,
-- abandon, overflow (in the old queue) and overflow_in (in the new one), transfer, complete,
-- wrap_up, sla_breach, callback_requested, callback_created, callback_attempt (detail: outcome
-- and attempt number), callback_retry, callback_failed. Agent events (queue '', task 0):
-- login, logout, break, ready, not_ready (detail: reason code).
-- wait_ms: the customer's wait at that point (from first arrival); duration_ms: handling time
-- (complete: answer to completion) or wrap-up length (wrap_up).
CREATE TABLE queue_log (
    id          TEXT    PRIMARY KEY,
    ts_ms       BIGINT  NOT NULL,
    queue       TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    task        BIGINT  NOT NULL,
    agent       TEXT,
    event       TEXT    NOT NULL,
    wait_ms     BIGINT,
    duration_ms BIGINT,
    detail      TEXT
);

CREATE INDEX queue_log_queue_ts ON queue_log (queue, ts_ms);
CREATE INDEX queue_log_task ON queue_log (task);

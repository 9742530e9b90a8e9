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

-- One row per routing event: enqueue, offer, ring_no_answer, reject, withdraw, answer,
-- abandon, overflow, transfer, complete, wrap_up, sla_breach, callback_requested,
-- callback_created, callback_attempt, and agent events (login, logout, break, ready,
-- not_ready) with queue ''. wait_ms: the customer's wait at that point (answer, abandon);
-- duration_ms: handling time (complete: answer to completion; wrap_up: its length).
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

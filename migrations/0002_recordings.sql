-- Call recordings: one row per recording file (a call may have several, e.g. after a
-- transfer). Portable SQL (SQLite and PostgreSQL). Times are unix milliseconds.
-- state: 'recording' while the file is open, 'done' once closed, 'repaired' when start-up
-- fixed the header of a file a crash left open.

CREATE TABLE recordings (
    id            TEXT    PRIMARY KEY,
    call_id       TEXT    NOT NULL,
    started_at_ms BIGINT  NOT NULL,
    duration_ms   BIGINT  NOT NULL,
    path          TEXT    NOT NULL,
    size_bytes    BIGINT  NOT NULL,
    state         TEXT    NOT NULL
);

CREATE INDEX recordings_call_id ON recordings (call_id);
CREATE INDEX recordings_started ON recordings (started_at_ms);

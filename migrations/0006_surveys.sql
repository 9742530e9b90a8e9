-- Survey answers given with the phone's keys in a dialplan `survey` step: one row per
-- question asked. Portable SQL (SQLite and PostgreSQL). Times are unix milliseconds.
-- answer_key is the key pressed ('1'..'9', '0', '*', '#'), NULL when the caller pressed no
-- valid key before the question timed out. position orders the questions within one run of
-- the survey (0 first); a call that runs the same survey twice has two answered_at_ms.

CREATE TABLE survey_answers (
    call_id        TEXT    NOT NULL,
    survey         TEXT    NOT NULL,
    answered_at_ms BIGINT  NOT NULL,
    position       BIGINT  NOT NULL,
    question       TEXT    NOT NULL,
    answer_key     TEXT,
    PRIMARY KEY (call_id, survey, answered_at_ms, position)
);

CREATE INDEX survey_answers_survey ON survey_answers (survey, answered_at_ms);

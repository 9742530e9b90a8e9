-- Agent state that survives a restart (routing::driver, store::agent_states): whether the agent
-- is logged in, its presence (available, or on a break with a reason code) and since when, in
-- unix milliseconds. Busy and wrap-up are not stored: they follow live calls and tasks, which
-- a restart ends or restores on their own. One row per agent extension, written with the
-- agent's `agent.state_changed` event.
CREATE TABLE agent_states (
    agent     TEXT    PRIMARY KEY,
    online    BIGINT  NOT NULL,
    presence  TEXT    NOT NULL,
    reason    BIGINT,
    since_ms  BIGINT  NOT NULL
);

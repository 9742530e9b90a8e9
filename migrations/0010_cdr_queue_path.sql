-- What happened in the queue: the queue the call waited in (for a callback, the callback's
-- queue), the extension of the agent who answered it (also for callbacks and click-to-dial),
-- and the wait in the queue, ms, until an agent answered or the caller hung up or kept their
-- place. NULL when the call had no such step.
ALTER TABLE cdrs ADD COLUMN queue TEXT;
ALTER TABLE cdrs ADD COLUMN agent TEXT;
ALTER TABLE cdrs ADD COLUMN wait_ms BIGINT;

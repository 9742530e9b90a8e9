-- Reports (src/reports, docs/REPORTS.md): every report scans the queue log over a time range
-- [from, to) across all queues and groups by queue, channel or agent per 15-minute slot. This
-- index serves that range scan and holds every column the report query reads, so SQLite
-- answers from the index alone (no lookup of each row in the table) and PostgreSQL can use an
-- index-only scan. It roughly doubles the queue log's size on disk; the existing
-- (queue, ts_ms) and (task) indexes stay for per-queue and per-task reads.
CREATE INDEX queue_log_report ON queue_log (
    ts_ms, event, queue, channel, agent, task, wait_ms, duration_ms, detail
);

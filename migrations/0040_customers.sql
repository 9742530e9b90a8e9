-- Customers: one person across channels. Portable SQL (SQLite and PostgreSQL). Times are unix
-- milliseconds; ids are text (`cus_…`, `note_…`, `aud_…`).
--
-- customers.merged_into: set when an agent merged this customer into another (the survivor);
-- NULL for a customer that stands on its own. Rows are never rewritten by a merge, so an
-- unmerge (clearing merged_into) restores exactly what was there.
-- customer_identities: who is who. kind is phone (E.164), email (lower case), chat (visitor
-- id), whatsapp, messenger or crm (the CRM's own id). An identity belongs to one customer.
-- customer_notes.kind: note or offer. customer_audit.action: created, linked, merged,
-- unmerged, identity_added.

CREATE TABLE customers (
    id            TEXT    PRIMARY KEY,
    display_name  TEXT,
    crm_id        TEXT,
    merged_into   TEXT,
    created_at_ms BIGINT  NOT NULL,
    updated_at_ms BIGINT  NOT NULL
);

CREATE INDEX customers_merged_into ON customers (merged_into);

CREATE TABLE customer_identities (
    kind          TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    customer_id   TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    created_at_ms BIGINT  NOT NULL,
    PRIMARY KEY (kind, value)
);

CREATE INDEX customer_identities_customer ON customer_identities (customer_id);

CREATE TABLE customer_notes (
    id            TEXT    PRIMARY KEY,
    customer_id   TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    author        TEXT,
    task_id       BIGINT,
    created_at_ms BIGINT  NOT NULL
);

CREATE INDEX customer_notes_customer ON customer_notes (customer_id, created_at_ms);

CREATE TABLE customer_audit (
    id          TEXT    PRIMARY KEY,
    customer_id TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    other_id    TEXT,
    actor       TEXT,
    detail      TEXT,
    at_ms       BIGINT  NOT NULL
);

CREATE INDEX customer_audit_customer ON customer_audit (customer_id, at_ms);

-- The timeline reads calls by party and stored tasks by customer, newest first.
CREATE INDEX cdrs_caller_started ON cdrs (caller, started_at_ms);
CREATE INDEX cdrs_callee_started ON cdrs (callee, started_at_ms);
CREATE INDEX tasks_customer_arrived ON tasks (customer, arrived_at_ms);

-- A disposition knows its customer (voice tasks are not stored, so a join cannot find it).
ALTER TABLE dispositions ADD COLUMN customer_id TEXT;
CREATE INDEX dispositions_customer ON dispositions (customer_id, created_at_ms);

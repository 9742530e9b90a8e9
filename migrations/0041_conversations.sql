-- Conversations and messages of the digital channels (SMS, e-mail, chat, messengers, forms).
-- Portable SQL (SQLite and PostgreSQL). Times are unix milliseconds; ids are text
-- (`cnv_…`, `msg_…`).
--
-- conversations.state: open or closed. peer: the customer's address on the channel (E.164,
-- e-mail address, visitor id); local: ours (the number or mailbox written to). task_id: the
-- routing task currently carrying it (NULL when none). linked_to: an earlier conversation a
-- late reply continues.
-- messages.direction: in or out. status: received, recorded (inbound, kept but not routed:
-- an auto-reply, a bounce), queued, sent, delivered, failed. external_id: the provider's id
-- (inbound: the id the customer's side gave, unique per channel, so a repeated webhook is
-- idempotent; outbound: the id the provider returned, which its receipts name).
-- customer_id is the conversation's at insert time (merges do not rewrite rows).

CREATE TABLE conversations (
    id            TEXT    PRIMARY KEY,
    customer_id   TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    queue         TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    subject       TEXT,
    peer          TEXT    NOT NULL,
    local         TEXT,
    linked_to     TEXT,
    task_id       BIGINT,
    created_at_ms BIGINT  NOT NULL,
    updated_at_ms BIGINT  NOT NULL,
    closed_at_ms  BIGINT
);

CREATE INDEX conversations_customer ON conversations (customer_id, created_at_ms);
CREATE INDEX conversations_peer ON conversations (channel, peer, state);
CREATE INDEX conversations_updated ON conversations (updated_at_ms);

CREATE TABLE messages (
    id              TEXT    PRIMARY KEY,
    conversation_id TEXT    NOT NULL,
    customer_id     TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    direction       TEXT    NOT NULL,
    external_id     TEXT,
    sender          TEXT,
    body            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    error           TEXT,
    agent           TEXT,
    created_at_ms   BIGINT  NOT NULL,
    updated_at_ms   BIGINT  NOT NULL
);

CREATE UNIQUE INDEX messages_external ON messages (channel, direction, external_id);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at_ms);
CREATE INDEX messages_customer ON messages (customer_id, created_at_ms);

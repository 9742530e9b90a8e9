-- E-mail details of received messages (one row per stored inbound e-mail). Portable SQL.
-- message_id: our message (messages.id). rfc_message_id: its Message-ID (without <>);
-- references: its References ids, space separated; raw_path: the original as received;
-- attachments: "name (size bytes); …"; automatic: why it was not routed (auto-submitted,
-- bulk, list, bounce, loop), NULL for a contact.
CREATE TABLE email_headers (
    message_id     TEXT    PRIMARY KEY,
    rfc_message_id TEXT,
    refs           TEXT    NOT NULL,
    subject        TEXT,
    raw_path       TEXT    NOT NULL,
    attachments    TEXT    NOT NULL,
    automatic      TEXT,
    from_name      TEXT
);

-- Threading looks a Message-ID up among stored and sent messages.
CREATE INDEX messages_external_id ON messages (external_id);

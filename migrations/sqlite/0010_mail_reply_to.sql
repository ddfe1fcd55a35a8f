-- Where answers to a requestor go when their mail carried Reply-To (issue 4): the requestor
-- stays the From address, mail to them goes to the Reply-To of their latest message.
CREATE TABLE mail_reply_to (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    address   TEXT    NOT NULL,
    reply_to  TEXT    NOT NULL,
    PRIMARY KEY (ticket_id, address)
);

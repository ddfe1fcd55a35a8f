-- Customers' services and hosts (issue 6). A service is what the customer buys (hosting,
-- colocation, transit, DSL/FTTH ...) with the identifier operators know it by (an IP prefix, a
-- domain, a circuit id). A host is a machine monitoring alerts about: alerts find their customer
-- by host name or address (CONTRACT §7), so each name and each address belongs to one customer.
CREATE TABLE customer_services (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind <> ''),
    identifier  TEXT    NOT NULL CHECK (identifier <> ''),
    description TEXT    NOT NULL DEFAULT '',
    UNIQUE (customer_id, kind, identifier)
);
-- "Which customer has circuit X / prefix Y": staff search by identifier.
CREATE INDEX customer_services_identifier_idx ON customer_services (identifier);

CREATE TABLE customer_hosts (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL UNIQUE CHECK (name <> '' AND name = lower(name)),
    address     TEXT    UNIQUE
);
CREATE INDEX customer_hosts_customer_idx ON customer_hosts (customer_id);

-- A customer's page lists its contacts.
CREATE INDEX users_customer_idx ON users (customer_id);

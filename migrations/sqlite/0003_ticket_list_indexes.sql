-- Lists are mostly "one queue, newest activity first": this index serves the filter and the
-- order together, so page 1 does not sort the whole queue (and keyset pages walk it).
CREATE INDEX tickets_queue_updated_idx ON tickets (queue, updated_at, id);
-- `Customer = 'X'` matches the code or the name; with both indexed the OR needs no scan.
CREATE INDEX customers_name_idx ON customers (name);

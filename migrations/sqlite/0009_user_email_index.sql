-- Mail intake looks up the sender of every message among users by address (issue 4: staff
-- correspondence, contacts), case-insensitively.
CREATE INDEX users_email_idx ON users (lower(email));

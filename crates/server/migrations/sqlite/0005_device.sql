CREATE TABLE device_authorizations (
    device_digest  BLOB PRIMARY KEY,
    user_code      TEXT NOT NULL UNIQUE,
    client_id      TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    poll_interval  INTEGER NOT NULL,
    last_polled_at INTEGER,
    status         TEXT NOT NULL,
    grant_id       TEXT
);

CREATE TABLE device_authorizations (
    device_digest  BYTEA PRIMARY KEY,
    user_code      TEXT NOT NULL UNIQUE,
    client_id      TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    poll_interval  BIGINT NOT NULL,
    last_polled_at BIGINT,
    status         TEXT NOT NULL,
    grant_id       TEXT
);

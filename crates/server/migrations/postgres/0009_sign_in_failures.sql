-- Failed sign-ins in a row per login, per source address and per admin-token caller, shared
-- by every replica; a key is refused until locked_until.
CREATE TABLE sign_in_failures (
    throttle_key   TEXT PRIMARY KEY,
    failures       BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until   BIGINT NOT NULL
);

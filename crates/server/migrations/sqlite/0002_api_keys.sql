CREATE TABLE api_keys (
    key_id         TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    login          TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    key_digest     BLOB NOT NULL UNIQUE,
    key_prefix     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER,
    last_used_from TEXT,
    revoked_at     INTEGER
);

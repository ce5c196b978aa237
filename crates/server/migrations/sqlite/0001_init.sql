CREATE TABLE logins (
    login_key  TEXT PRIMARY KEY,
    owner_kind TEXT NOT NULL,
    owner_id   TEXT NOT NULL
);

CREATE TABLE oauth_clients (
    client_id                  TEXT PRIMARY KEY,
    name                       TEXT NOT NULL,
    login                      TEXT NOT NULL,
    grant_type                 TEXT NOT NULL,
    contact_info               TEXT NOT NULL,
    contact_email              TEXT NOT NULL,
    scopes                     TEXT NOT NULL,
    redirect_uris              TEXT NOT NULL,
    pkce                       INTEGER NOT NULL,
    active                     INTEGER NOT NULL,
    secret_digest              BLOB,
    secret_generation          INTEGER NOT NULL,
    previous_secret_digest     BLOB,
    previous_secret_expires_at INTEGER,
    tokens_valid_after         INTEGER NOT NULL,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    version                    INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    active      INTEGER NOT NULL
);
-- One active key per algorithm: replicas starting together agree on one.
CREATE UNIQUE INDEX signing_keys_one_active_per_alg ON signing_keys (alg) WHERE active;

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

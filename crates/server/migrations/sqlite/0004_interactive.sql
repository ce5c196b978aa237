ALTER TABLE oauth_clients ADD COLUMN allow_plain_pkce INTEGER NOT NULL DEFAULT 0;

-- A signed-in browser: the cookie holds the secret, the table its digest.
CREATE TABLE sessions (
    session_digest BLOB PRIMARY KEY,
    user_id        TEXT NOT NULL,
    auth_time      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);

-- One user's consent to one client: every code, refresh token and access token issued from
-- it belongs to it, and revoking it revokes them all.
CREATE TABLE grants (
    grant_id   TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    auth_time  INTEGER NOT NULL,
    nonce      TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE authorization_codes (
    code_digest           BLOB PRIMARY KEY,
    grant_id              TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    expires_at            INTEGER NOT NULL,
    used_at               INTEGER
);

CREATE TABLE refresh_tokens (
    token_digest BLOB PRIMARY KEY,
    grant_id     TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    rotated_at   INTEGER
);
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (grant_id);

-- Revoked access tokens (by jti) and grants, in order, so every replica can follow.
CREATE TABLE revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

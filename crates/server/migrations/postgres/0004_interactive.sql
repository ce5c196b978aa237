ALTER TABLE oauth_clients ADD COLUMN allow_plain_pkce BOOLEAN NOT NULL DEFAULT FALSE;

-- A signed-in browser: the cookie holds the secret, the table its digest.
CREATE TABLE sessions (
    session_digest BYTEA PRIMARY KEY,
    user_id        TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

-- One user's consent to one client: every code, refresh token and access token issued from
-- it belongs to it, and revoking it revokes them all.
CREATE TABLE grants (
    grant_id   TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    nonce      TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE authorization_codes (
    code_digest           BYTEA PRIMARY KEY,
    grant_id              TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    expires_at            BIGINT NOT NULL,
    used_at               BIGINT
);

CREATE TABLE refresh_tokens (
    token_digest BYTEA PRIMARY KEY,
    grant_id     TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    rotated_at   BIGINT
);
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (grant_id);

-- Revoked access tokens (by jti) and grants, in order, so every replica can follow.
CREATE TABLE revocations (
    seq        BIGSERIAL PRIMARY KEY,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

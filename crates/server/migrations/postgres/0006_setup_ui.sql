-- When each client was last issued a token (written at most once a minute per client).
ALTER TABLE oauth_clients ADD COLUMN last_token_at BIGINT;

-- Every address each legacy API key was used from, for the transition worklist.
CREATE TABLE api_key_sources (
    key_id        TEXT NOT NULL,
    address       TEXT NOT NULL,
    first_used_at BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL,
    PRIMARY KEY (key_id, address)
);

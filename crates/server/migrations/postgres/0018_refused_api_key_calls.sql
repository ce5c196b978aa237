-- Calls refused because their API key was revoked: the integrations the revocation broke.
ALTER TABLE api_keys ADD COLUMN refused_calls BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN last_refused_at BIGINT;
ALTER TABLE api_keys ADD COLUMN last_refused_from TEXT;

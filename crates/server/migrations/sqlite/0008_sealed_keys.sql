-- The key encryption key each signing key is sealed under; NULL for keys stored in clear by
-- earlier versions, which the next start seals.
ALTER TABLE signing_keys ADD COLUMN kek_id TEXT;

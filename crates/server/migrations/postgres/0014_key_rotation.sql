-- Staged signing-key rotation. A key is published from created_at, signs from activate_at
-- until retired_at, and verifies (stays in the JWKS) until expires_at. Of the keys of one
-- algorithm that may sign at an instant, the highest generation signs; two replicas cannot
-- give two keys the same generation, so concurrent rotations cannot both win.
DROP INDEX signing_keys_one_active_per_alg;
ALTER TABLE signing_keys ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN activate_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN retired_at BIGINT;
ALTER TABLE signing_keys ADD COLUMN expires_at BIGINT;
UPDATE signing_keys SET activate_at = created_at;
UPDATE signing_keys SET generation = 1 WHERE active;
UPDATE signing_keys SET retired_at = created_at, expires_at = created_at WHERE NOT active;
ALTER TABLE signing_keys DROP COLUMN active;
CREATE UNIQUE INDEX signing_keys_one_per_generation ON signing_keys (alg, generation) WHERE generation > 0;

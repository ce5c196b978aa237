-- When each revocation was recorded: replicas read a recent window again, so a revocation
-- whose transaction committed after one with a higher seq is not skipped.
ALTER TABLE revocations ADD COLUMN recorded_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX revocations_by_recording ON revocations (recorded_at);

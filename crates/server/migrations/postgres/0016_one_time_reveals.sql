-- A secret a browser session is shown once on its next page (a client's new secret after a
-- create or a rotation), sealed under the key encryption key; deleted by that view or on
-- expiry, whichever comes first.
CREATE TABLE one_time_reveals (
    session_digest BYTEA NOT NULL,
    subject        TEXT NOT NULL,
    sealed         BYTEA NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (session_digest, subject)
);
CREATE INDEX one_time_reveals_expires_at ON one_time_reveals (expires_at);

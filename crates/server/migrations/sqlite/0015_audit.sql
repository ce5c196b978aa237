-- The audit trail: appended to, read, and purged past its retention; never updated.
CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    address TEXT NOT NULL,
    kind    TEXT NOT NULL,
    object  TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_object ON audit_events (object, at);
CREATE INDEX audit_events_actor ON audit_events (actor, at);

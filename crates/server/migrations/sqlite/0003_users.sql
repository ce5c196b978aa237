CREATE TABLE users (
    user_id              TEXT PRIMARY KEY,
    login                TEXT NOT NULL,
    email                TEXT NOT NULL,
    name                 TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    active               INTEGER NOT NULL,
    admin                INTEGER NOT NULL,
    sessions_valid_after INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    version              INTEGER NOT NULL
);

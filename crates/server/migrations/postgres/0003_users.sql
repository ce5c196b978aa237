CREATE TABLE users (
    user_id              TEXT PRIMARY KEY,
    login                TEXT NOT NULL,
    email                TEXT NOT NULL,
    name                 TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    active               BOOLEAN NOT NULL,
    admin                BOOLEAN NOT NULL,
    sessions_valid_after BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    version              BIGINT NOT NULL
);

-- Elements an administrator adds to an API object, shown under `custom-fields`, and their
-- values per record (as text; typed by the definition).
CREATE TABLE custom_fields (
    object TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (object, name)
);
CREATE TABLE custom_values (
    object TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (object, record_id, name)
);
CREATE INDEX custom_values_by_value ON custom_values (object, name, value);

-- Files the API keeps: attachments' files and invoices' image scans and legal PDFs. The bytes
-- are here, or in the configured directory (`path`, relative to it).
CREATE TABLE files (
    owner TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    role TEXT NOT NULL,
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size BIGINT NOT NULL,
    bytes BYTEA,
    path TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner, owner_id, role)
);

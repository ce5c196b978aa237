-- A client's page lists its live grants.
CREATE INDEX grants_by_client ON grants (client_id, created_at);

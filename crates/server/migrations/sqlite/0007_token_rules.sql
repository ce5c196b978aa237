-- An administrator may let a client (a resource server) introspect other clients' tokens.
ALTER TABLE oauth_clients ADD COLUMN introspect_any_token INTEGER NOT NULL DEFAULT 0;

-- Whether the authorization request named redirect_uri: the token request must then repeat it.
ALTER TABLE authorization_codes ADD COLUMN redirect_uri_given INTEGER NOT NULL DEFAULT 0;

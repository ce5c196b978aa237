// A third-party authorization server for the SDK tests: oidc-provider with two
// client-credentials clients (secret in the body, and HTTP Basic), its token endpoint at Coupa's
// path, short-lived opaque access tokens and introspection to check them.
// Usage: node oidc-provider-peer.mjs CLIENT_ID CLIENT_SECRET SCOPE TTL_SECONDS
// Prints the port it listens on (127.0.0.1), then serves until killed.
import Provider from 'oidc-provider';

const [clientId, clientSecret, scope, ttl] = process.argv.slice(2);
const client = (id, method) => ({
  client_id: id,
  client_secret: clientSecret,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  scope,
  token_endpoint_auth_method: method,
});

let provider;
const server = (await import('node:http')).createServer((req, res) => provider.callback()(req, res));
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const resource = `${issuer}/api`;
  provider = new Provider(issuer, {
    clients: [client(clientId, 'client_secret_post'), client(`${clientId}-basic`, 'client_secret_basic')],
    // One scope the provider knows but the clients lack, to see invalid_scope.
    scopes: [...scope.split(' '), 'core.user.read'],
    routes: { token: '/oauth2/token', introspection: '/oauth2/introspect' },
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope,
          audience: resource,
          accessTokenTTL: Number(ttl),
          accessTokenFormat: 'opaque',
        }),
      },
    },
  });
  console.log(port);
});

// An OpenID Connect relying party built on npm openid-client, signing in through the server's
// own HTML forms over HTTP: discovery, authorization code with PKCE, ID token validation,
// userinfo, refresh, introspection and revocation.
// Usage: node oidc-relying-party.mjs ISSUER CLIENT_ID CLIENT_SECRET LOGIN PASSWORD REDIRECT_URI
// Prints one JSON object with what it saw; exits non-zero on any failure.
import * as oidc from 'openid-client';

const [issuer, clientId, clientSecret, login, password, redirectUri] = process.argv.slice(2);
const config = await oidc.discovery(new URL(issuer), clientId, clientSecret, undefined, {
  execute: [oidc.allowInsecureRequests],
});

const verifier = oidc.randomPKCECodeVerifier();
const state = oidc.randomState();
const nonce = oidc.randomNonce();
const authorizationUrl = oidc.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

// A minimal browser: a cookie jar and manual redirects.
const cookies = new Map();
async function visit(url, form) {
  const response = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: {
      cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), pair.slice(at + 1));
  }
  const location = response.headers.get('location');
  return { status: response.status, location: location && new URL(location, url).href, body: await response.text() };
}
function hiddenFields(html) {
  const fields = [];
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    const unescape = (text) => text.replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>')
      .replace(/&#(\d+);/g, (_, code) => String.fromCodePoint(Number(code))).replaceAll('&amp;', '&');
    fields.push([unescape(match[1]), unescape(match[2])]);
  }
  return fields;
}

let page = await visit(authorizationUrl.href);
if (page.status !== 303) throw new Error(`expected a redirect to sign in, got ${page.status}`);
const loginPage = await visit(page.location);
const loginForm = [...hiddenFields(loginPage.body), ['login', login], ['password', password]];
const signedIn = await visit(new URL('/oauth2/login', issuer).href, loginForm);
if (signedIn.status !== 303) throw new Error(`sign-in failed: ${signedIn.status} ${signedIn.body}`);
const consent = await visit(signedIn.location);
if (!consent.body.includes('Allow')) throw new Error('no consent page');
const decided = await visit(new URL('/oauth2/authorize', issuer).href, [...hiddenFields(consent.body), ['decision', 'allow']]);
if (!decided.location?.startsWith(redirectUri)) throw new Error(`no redirect to the client: ${decided.status}`);

const tokens = await oidc.authorizationCodeGrant(config, new URL(decided.location), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
const introspection = await oidc.tokenIntrospection(config, refreshed.access_token);
await oidc.tokenRevocation(config, refreshed.refresh_token);
const afterRevocation = await oidc.tokenIntrospection(config, refreshed.refresh_token);
let reuseRefused = false;
try {
  await oidc.refreshTokenGrant(config, tokens.refresh_token);
} catch (error) {
  reuseRefused = error.error === 'invalid_grant';
}
console.log(JSON.stringify({
  sub: claims.sub,
  nonce: claims.nonce,
  name: userinfo.name,
  email: userinfo.email,
  rotated: refreshed.refresh_token !== tokens.refresh_token,
  introspected_active: introspection.active,
  revoked_active: afterRevocation.active,
  reuse_refused: reuseRefused,
}));

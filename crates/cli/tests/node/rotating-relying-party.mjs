// A relying party that caches the JWKS as its Cache-Control allows and never fetches it
// before the cached copy is stale (not even for an unknown kid), verifying with npm `jose`.
// It gets a token every 100 ms and verifies it, and the first token it got, while an admin
// rotates the signing keys after ROTATE_AFTER_MS (when given).
// Usage: node rotating-relying-party.mjs SERVER_URL CLIENT_ID SECRET ADMIN_TOKEN DURATION_MS [ROTATE_AFTER_MS]
// Prints {verified, failures, kids} as JSON.
import { createLocalJWKSet, jwtVerify } from 'jose';

const [url, clientId, secret, adminToken, durationMs, rotateAfterMs] = process.argv.slice(2);
const audience = `${url}/api`;
let cached = null;

async function keySet() {
  if (cached && Date.now() < cached.staleAt) return cached.keys;
  const response = await fetch(`${url}/oauth2/jwks`);
  const maxAge = /max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '');
  cached = {
    keys: createLocalJWKSet(await response.json()),
    staleAt: Date.now() + (maxAge ? Number(maxAge[1]) * 1000 : 0),
  };
  return cached.keys;
}

async function token() {
  const response = await fetch(`${url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
  });
  if (!response.ok) throw new Error(`token endpoint: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const result = { verified: 0, failures: [], kids: [] };
const first = await token();
const started = Date.now();
let rotated = rotateAfterMs === undefined;
while (Date.now() - started < Number(durationMs)) {
  if (!rotated && Date.now() - started >= Number(rotateAfterMs)) {
    const response = await fetch(`${url}/admin/api/keys/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    if (!response.ok) throw new Error(`rotate: ${response.status} ${await response.text()}`);
    rotated = true;
  }
  for (const jwt of [await token(), first]) {
    try {
      const { protectedHeader } = await jwtVerify(jwt, await keySet(), { issuer: url, audience, typ: 'at+jwt' });
      result.verified += 1;
      if (!result.kids.includes(protectedHeader.kid)) result.kids.push(protectedHeader.kid);
    } catch (error) {
      result.failures.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${error.code ?? 'ERROR'} ${error.message}`);
    }
  }
  await sleep(100);
}
console.log(JSON.stringify(result));

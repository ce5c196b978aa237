// Verifies an access token with an independent JOSE implementation against the server's JWKS.
// Usage: node verify-jwt.mjs JWKS_URL ISSUER AUDIENCE TOKEN
// Prints the verified payload and protected header as JSON; exits 1 with the reason otherwise.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, issuer, audience, token] = process.argv.slice(2);
try {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt' });
  console.log(JSON.stringify({ payload, protectedHeader }));
} catch (error) {
  console.error(`${error.code ?? 'ERROR'}: ${error.message}`);
  process.exit(1);
}

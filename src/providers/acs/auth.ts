/**
 * The JWT Call Automation signs on each WebSocket upgrade it makes (azure-docs
 * articles/communication-services/how-tos/call-automation/secure-webhook-endpoint.md,
 * "Authentication token in a WebSocket header", and its JavaScript sample
 * includes/secure-websocket-js.md): `Authorization: Bearer <JWT>`, RS256, issuer
 * https://acscallautomation.communication.azure.com, audience the ACS resource's id, signed
 * with a key from https://acscallautomation.communication.azure.com/calling/keys. Checked with
 * `jose`; the key set is fetched once and kept, refetched only for an unknown key id and then
 * at most every 30 s (jose's cooldown), so a flood of forged tokens cannot make calltape
 * hammer Microsoft. `jose` is loaded on the first check (1.6 MB of heap a server without ACS
 * credentials has no use for).
 */
import type { createRemoteJWKSet } from 'jose';
import { CalltapeError } from '../../errors.js';

export const ACS_ISSUER = 'https://acscallautomation.communication.azure.com';
/** Clock difference allowed between ACS and this host. */
const CLOCK_TOLERANCE_S = 30;
const JWKS_TIMEOUT_MS = 5000;

const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

let joseModule: Promise<typeof import('jose')> | undefined;

/** Resolves when `token` is ACS's, for `audience`; rejects with a CalltapeError saying why not. */
export async function verifyAcsToken(token: string, audience: string, jwksUrl: string): Promise<void> {
  const { createRemoteJWKSet, errors, jwtVerify } = await (joseModule ??= import('jose'));
  let keySet = keySets.get(jwksUrl);
  if (!keySet) {
    keySet = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: JWKS_TIMEOUT_MS });
    keySets.set(jwksUrl, keySet);
  }
  try {
    await jwtVerify(token, keySet, { issuer: ACS_ISSUER, audience, algorithms: ['RS256'], clockTolerance: CLOCK_TOLERANCE_S });
  } catch (err) {
    // Keys we could not fetch say nothing about the caller: not counted as a guess (401, not 403).
    if (err instanceof errors.JWKSTimeout || (err instanceof Error && !(err instanceof errors.JOSEError))) {
      throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', `the ACS token could not be checked: ${err.message}`);
    }
    throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', `the ACS token is not valid: ${(err as Error).message}`);
  }
}

/**
 * The credentials a stream's `start` must show, on any route: the upgrade must have proven
 * every provider the stream claims to be whose credential is configured (see
 * stream-identity.ts), and with CALLTAPE_STREAM_TOKEN_SECRET the start must carry a valid,
 * unexpired token issued for this provider and call. The token is a credential: it is
 * checked and removed, never stored with the recording.
 */
import { rejection, type Rejection } from '../errors.js';
import type { StartEvent } from '../events.js';
import { claimedProviders } from './stream-identity.js';
import { checkStreamToken, STREAM_TOKEN_PARAM } from './stream-token.js';

export interface StartCredentials {
  readonly streamTokenSecret?: string | undefined;
  /** Providers whose own verified upgrade credential stands in for the stream token (CALLTAPE_STREAM_TOKEN_EXEMPT). */
  readonly streamTokenExempt?: readonly string[] | undefined;
  /** Providers whose configured credential the upgrade carried, and did not carry. */
  readonly verified: ReadonlySet<string>;
  readonly unverified: ReadonlySet<string>;
}

export type StartVerdict =
  | { readonly refused: Rejection }
  | { readonly refused?: undefined; readonly start: StartEvent; readonly authenticated: boolean };

export function verifyStart(credentials: StartCredentials, provider: string, start: StartEvent, nowMs = Date.now()): StartVerdict {
  const claims = claimedProviders(provider, start);
  const unproven = claims.find((claim) => credentials.unverified.has(claim));
  if (unproven) {
    return {
      refused: rejection('CALLTAPE_ERR_UNVERIFIED_PROVIDER', `a ${unproven} stream (by its ${unproven === provider ? 'protocol' : 'ids'}) on an upgrade without valid ${unproven} credentials`),
    };
  }
  let authenticated = claims.some((claim) => credentials.verified.has(claim));
  if (credentials.streamTokenSecret === undefined) return { start, authenticated };
  // Only the provider the frames are, proven by its own credential on this very upgrade.
  if (credentials.streamTokenExempt?.includes(provider) && credentials.verified.has(provider)) return { start, authenticated: true };
  const verdict = checkStreamToken(credentials.streamTokenSecret, provider, start.callId, start.params[STREAM_TOKEN_PARAM], nowMs);
  if (verdict !== 'valid') return { refused: rejection('CALLTAPE_ERR_BAD_STREAM_TOKEN', `${verdict} token in the start of ${provider} call ${start.callId}`) };
  authenticated = true;
  const { [STREAM_TOKEN_PARAM]: _token, ...params } = start.params;
  return { start: { ...start, params }, authenticated };
}

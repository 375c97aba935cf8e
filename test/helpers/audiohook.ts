/**
 * A Genesys AudioHook client's side of the upgrade and the session, for tests: the
 * Audiohook-* headers, the HTTP message signature made by `http-message-signatures` (an
 * implementation of RFC 9421 that is not calltape's, so the verifier is checked against
 * someone else's signer), and client messages numbered as the reference client numbers them
 * (purecloudlabs/audiohook-reference-implementation, app/audiohook/src/client/clientsessionimpl.ts).
 */
import crypto from 'node:crypto';
import { httpbis } from 'http-message-signatures';

export const AUDIOHOOK_COMPONENTS = ['@request-target', '@authority', 'audiohook-organization-id', 'audiohook-session-id', 'audiohook-correlation-id', 'x-api-key'];

export interface AudioHookIds {
  readonly sessionId: string;
  readonly organizationId: string;
  readonly correlationId: string;
  readonly conversationId: string;
}

export function audioHookIds(): AudioHookIds {
  return { sessionId: crypto.randomUUID(), organizationId: crypto.randomUUID(), correlationId: crypto.randomUUID(), conversationId: crypto.randomUUID() };
}

export function audioHookHeaders(ids: AudioHookIds, apiKey?: string): Record<string, string> {
  return {
    'audiohook-organization-id': ids.organizationId,
    'audiohook-correlation-id': ids.correlationId,
    'audiohook-session-id': ids.sessionId,
    ...(apiKey !== undefined ? { 'x-api-key': apiKey } : {}),
  };
}

export interface SignOptions {
  readonly apiKey: string;
  /** The client secret as Genesys shows it (base64). */
  readonly secret: string;
  readonly created?: Date;
  readonly nonce?: string;
  readonly keyid?: string;
  readonly fields?: string[];
}

/** `headers` with Signature and Signature-Input added, signed for a GET of `url` (http(s) scheme: the signer's authority rule). */
export async function signAudioHook(url: string, headers: Record<string, string>, options: SignOptions): Promise<Record<string, string>> {
  const key = Buffer.from(options.secret, 'base64');
  const signed = await httpbis.signMessage(
    {
      key: { id: options.keyid ?? options.apiKey, alg: 'hmac-sha256', sign: async (data) => crypto.createHmac('sha256', key).update(data).digest() },
      name: 'sig1',
      fields: options.fields ?? AUDIOHOOK_COMPONENTS,
      params: ['keyid', 'nonce', 'alg', 'created', 'expires'],
      paramValues: {
        created: options.created ?? new Date(),
        expires: new Date(Date.now() + 300_000),
        nonce: options.nonce ?? crypto.randomBytes(18).toString('base64url'),
      },
    },
    { method: 'GET', url, headers },
  );
  // Lower-case names, as Node hands them to a server.
  return Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}

/** Client messages in the reference client's numbering: seq from 1, serverseq the last server seq seen. */
export class AudioHookClient {
  private seq = 0;
  serverseq = 0;

  constructor(readonly ids: AudioHookIds) {}

  message(type: string, position: string, parameters: object): string {
    return JSON.stringify({ version: '2', id: this.ids.sessionId, type, seq: ++this.seq, serverseq: this.serverseq, position, parameters });
  }

  open(media: object[], extra: object = {}): string {
    return this.message('open', 'PT0S', {
      organizationId: this.ids.organizationId,
      conversationId: this.ids.conversationId,
      participant: { id: crypto.randomUUID(), ani: '+13175551234', aniName: 'Jane Caller', dnis: '+13175550000' },
      media,
      ...extra,
    });
  }
}

export const STEREO_OFFER = { type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 };
export const EXTERNAL_OFFER = { type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 };

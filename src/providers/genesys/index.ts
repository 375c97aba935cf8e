/** Genesys Cloud AudioHook (see ../adapter.ts, parse.ts and signature.ts). */
import { CalltapeError } from '../../errors.js';
import type { ProviderAdapter } from '../adapter.js';
import { expectSecret } from '../common/secrets.js';
import { createGenesysParser, isAudioHookOpen } from './parse.js';

/** The signature check and its structured-field parser, loaded by the first signed upgrade. */
let signatureModule: Promise<typeof import('./signature.js')> | undefined;

export const genesys: ProviderAdapter = {
  name: 'genesys',
  createParser: (connection) => createGenesysParser(connection),
  detect: (msg) => isAudioHookOpen(msg),
  detectHeaders: (headers) => typeof headers['audiohook-session-id'] === 'string' && typeof headers['audiohook-organization-id'] === 'string',
  /**
   * The integration's API key as X-API-KEY; with its client secret configured, the upgrade's
   * HTTP message signature too (as the reference implementation checks it).
   */
  upgradeCheck: {
    configured: (config) => config.genesysApiKey !== undefined,
    async check(config, request) {
      const apiKey = config.genesysApiKey!;
      expectSecret(request.header('x-api-key'), apiKey, 'X-API-KEY');
      if (config.genesysClientSecret === undefined) return;
      let authority: string;
      try {
        authority = new URL(request.publicUrl()).host;
      } catch {
        throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'the stream URL cannot be read');
      }
      const { verifyAudioHookSignature } = await (signatureModule ??= import('./signature.js'));
      verifyAudioHookSignature({ header: (name) => request.header(name), target: request.target(), authority }, apiKey, Buffer.from(config.genesysClientSecret, 'base64'));
    },
  },
};

/** Azure Communication Services audio streaming (see ../adapter.ts and parse.ts). */
import { CalltapeError } from '../../errors.js';
import type { ProviderAdapter } from '../adapter.js';
import { expectSecret, urlToken } from '../common/secrets.js';
import { verifyAcsToken } from './auth.js';
import { createAcsParser, isAcsMetadata } from './parse.js';

export const acs: ProviderAdapter = {
  name: 'acs',
  createParser: (connection) => createAcsParser(connection),
  detect: (msg) => isAcsMetadata(msg),
  /**
   * The JWT ACS signs on the upgrade (with CALLTAPE_ACS_AUDIENCE), or a token the TransportUri
   * carries (`?token=`, CALLTAPE_ACS_URL_TOKEN): either one configured must be carried.
   */
  upgradeCheck: {
    configured: (config) => config.acsAudience !== undefined || config.acsUrlToken !== undefined,
    async check(config, request) {
      const bearer = request.bearer();
      if (config.acsAudience !== undefined && (bearer !== undefined || config.acsUrlToken === undefined)) {
        if (!bearer) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'the ACS token (Authorization: Bearer) is missing on the upgrade');
        await verifyAcsToken(bearer, config.acsAudience, config.acsJwksUrl);
        return;
      }
      expectSecret(urlToken(request), config.acsUrlToken!, '?token=');
    },
  },
};

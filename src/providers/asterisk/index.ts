/** Asterisk's WebSocket channel, chan_websocket (see ../adapter.ts and parse.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { expectSecret, urlToken } from '../common/secrets.js';
import { ASTERISK_SUBPROTOCOL, createAsteriskParser, isAsteriskMediaStart } from './parse.js';

export const asterisk: ProviderAdapter = {
  name: 'asterisk',
  createParser: () => createAsteriskParser(),
  subprotocols: [ASTERISK_SUBPROTOCOL],
  detect: (msg) => isAsteriskMediaStart(msg),
  detectText: (text) => text.startsWith('MEDIA_START '),
  /**
   * websocket_client.conf's `username`/`password` (HTTP Basic), or a token the dial string
   * adds to the URL (`v(token=…)`): either one configured must be carried.
   */
  upgradeCheck: {
    configured: (config) => config.asteriskBasicAuth !== undefined || config.asteriskUrlToken !== undefined,
    check(config, request) {
      const basic = request.basic();
      if (config.asteriskBasicAuth !== undefined && (basic !== undefined || config.asteriskUrlToken === undefined)) {
        expectSecret(basic, config.asteriskBasicAuth, 'Authorization: Basic');
        return;
      }
      expectSecret(urlToken(request), config.asteriskUrlToken!, '?token=');
    },
  },
};

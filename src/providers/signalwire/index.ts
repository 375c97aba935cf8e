/** SignalWire's <Stream>: Twilio's protocol with UUID ids and a bearer token (see ../adapter.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { twilioAppFrames } from '../app-frames.js';
import { expectSecret } from '../common/secrets.js';
import { isUuid } from '../twilio/ids.js';
import { createSignalwireParser } from './parse.js';

export const signalwire: ProviderAdapter = {
  name: 'signalwire',
  appFrames: twilioAppFrames,
  createParser: () => createSignalwireParser(),
  detect: (_msg, start) => start?.streamSid !== undefined && isUuid(start.callSid),
  upgradeCheck: {
    configured: (config) => config.signalwireBearerToken !== undefined,
    check: (config, request) => expectSecret(request.bearer(), config.signalwireBearerToken!, 'Authorization: Bearer'),
  },
  // SignalWire sends Authorization: Bearer only when the <Stream> names authBearerToken.
  twiml: { isCallSid: isUuid, bearerToken: (config) => config.signalwireBearerToken },
};

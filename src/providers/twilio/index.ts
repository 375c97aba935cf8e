/** Twilio Media Streams: everything calltape knows about Twilio (see ../adapter.ts). */
import { CalltapeError } from '../../errors.js';
import type { ProviderAdapter } from '../adapter.js';
import { twilioAppFrames } from '../app-frames.js';
import { isValidTwilioSignature } from './auth.js';
import { isTwilioSid, isUuid } from './ids.js';
import { createTwilioParser } from './parse.js';

export const twilio: ProviderAdapter = {
  name: 'twilio',
  appFrames: twilioAppFrames,
  createParser: () => createTwilioParser(),
  // Twilio's start: streamSid and callSid (a CA SID; SignalWire's are UUIDs).
  detect: (_msg, start) => start?.streamSid !== undefined && start.callSid !== undefined && !isUuid(start.callSid),
  /** X-Twilio-Signature over wss://<public host><path>, with any query parameters as the signed parameters. */
  upgradeCheck: {
    configured: (config) => config.twilioAuthToken !== undefined,
    check(config, request) {
      const signature = request.header('x-twilio-signature');
      if (!signature) throw new CalltapeError('CALLTAPE_ERR_UNAUTHENTICATED', 'X-Twilio-Signature missing on the upgrade');
      const full = new URL(request.publicUrl());
      const url = `${full.origin}${full.pathname}`; // wss://host[:port]/path, query as params
      if (!isValidTwilioSignature(config.twilioAuthToken!, signature, url, Object.fromEntries(full.searchParams))) {
        throw new CalltapeError('CALLTAPE_ERR_FORBIDDEN', 'X-Twilio-Signature does not match the stream URL');
      }
    },
  },
  twiml: { isCallSid: (value) => isTwilioSid(value, 'CA') },
};

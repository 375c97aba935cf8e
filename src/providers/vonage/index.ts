/** Vonage Voice API websockets (see ../adapter.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { json } from '../common/markup.js';
import { createVonageParser } from './parse.js';

export const vonage: ProviderAdapter = {
  name: 'vonage',
  createParser: () => createVonageParser(),
  detect: (msg) => msg.event === 'websocket:connected',
  answer: {
    /** NCCO: connect the call to a websocket endpoint; headers arrive in the first frame. */
    build: ({ streamUrl, params }) =>
      json([{ action: 'connect', endpoint: [{ type: 'websocket', uri: streamUrl, 'content-type': 'audio/l16;rate=16000', headers: Object.fromEntries(params) }] }]),
    carriesParams: true,
    callIdFields: ['uuid'],
    // The protocol has no call id of its own: it travels as a header.
    callIdParam: 'call_uuid',
    tokenEncoding: 'base64url',
  },
};

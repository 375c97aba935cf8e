/** jambonz `listen` (see ../adapter.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { json } from '../common/markup.js';
import { createJambonzParser, JAMBONZ_SUBPROTOCOL } from './parse.js';

export const jambonz: ProviderAdapter = {
  name: 'jambonz',
  createParser: () => createJambonzParser(),
  subprotocols: [JAMBONZ_SUBPROTOCOL],
  detect: (msg) => msg.event === undefined && typeof msg.callSid === 'string' && (msg.sampleRate !== undefined || msg.mixType !== undefined),
  answer: {
    /** A `listen` verb, stereo (caller left, other party right); metadata = parameters. */
    build: ({ streamUrl, params }) => json([{ verb: 'listen', url: streamUrl, mixType: 'stereo', sampleRate: 8000, metadata: Object.fromEntries(params) }]),
    carriesParams: true,
    callIdFields: ['call_sid', 'callSid'],
    tokenEncoding: 'base64url',
  },
};

/** Bandwidth media streams (see ../adapter.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { escapeXml, xml } from '../common/markup.js';
import { createBandwidthParser } from './parse.js';

export const bandwidth: ProviderAdapter = {
  name: 'bandwidth',
  createParser: () => createBandwidthParser(),
  detect: (msg) => typeof msg.eventType === 'string',
  answer: {
    /** BXML: both tracks, parameters as <StreamParam>. */
    build: ({ streamUrl, params, pauseSeconds }) =>
      xml([
        '<Response>',
        `  <StartStream name="calltape" tracks="both" destination="${escapeXml(streamUrl)}">`,
        ...params.map(([name, value]) => `    <StreamParam name="${escapeXml(name)}" value="${escapeXml(value)}"/>`),
        '  </StartStream>',
        `  <Pause duration="${pauseSeconds}"/>`,
        '</Response>',
      ]),
    carriesParams: true,
    callIdFields: ['callId'],
    tokenEncoding: 'base64url',
  },
};

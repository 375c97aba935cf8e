/** Plivo audio streams (see ../adapter.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { plivoAppFrames } from '../app-frames.js';
import { escapeXml, xml } from '../common/markup.js';
import { createPlivoParser } from './parse.js';

/** Plivo's extraHeaders: names and values of letters and digits only. */
const PLIVO_TEXT = /^[A-Za-z0-9]*$/;

export const plivo: ProviderAdapter = {
  name: 'plivo',
  appFrames: plivoAppFrames,
  createParser: () => createPlivoParser(),
  detect: (_msg, start) => start?.streamId !== undefined && start.callId !== undefined,
  answer: {
    /**
     * Plivo XML: the URL is the element's text; parameters travel in extraHeaders.
     * streamTimeout is calltape's own max duration: the stream then lasts as long as calltape
     * would record it (Plivo's default is 86400 s).
     */
    build: ({ streamUrl, params, pauseSeconds, maxDurationSeconds }) => {
      const extra = params.map(([name, value]) => `${name}=${value}`).join(',');
      return xml([
        '<Response>',
        `  <Stream bidirectional="false" audioTrack="both" streamTimeout="${maxDurationSeconds}" contentType="audio/x-l16;rate=16000"${extra ? ` extraHeaders="${escapeXml(extra)}"` : ''}>${escapeXml(streamUrl)}</Stream>`,
        `  <Wait length="${pauseSeconds}"/>`,
        '</Response>',
      ]);
    },
    carriesParams: true,
    callIdFields: ['CallUUID'],
    // extraHeaders allow letters and digits only: hex there.
    tokenEncoding: 'hex',
    // One `name=value,name=value` string: a comma, semicolon or equals sign in a value would add parameters of its own.
    paramProblem: (name, value) =>
      PLIVO_TEXT.test(name) && PLIVO_TEXT.test(value) ? undefined : 'has a name or value Plivo cannot carry in extraHeaders (letters and digits only)',
  },
};

/** Plivo audio streams (see ../adapter.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { plivoAppFrames } from '../app-frames.js';
import { escapeXml, xml } from '../common/markup.js';
import { encodeExtraHeaders, EXTRA_HEADERS_MAX_BYTES } from './extra-headers.js';
import { createPlivoParser } from './parse.js';

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
      const extra = encodeExtraHeaders(params);
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
    // Any name and value travels (encoded where needed); only the whole string's size is bounded.
    paramsProblem: (params) => {
      const bytes = Buffer.byteLength(encodeExtraHeaders(params));
      return bytes <= EXTRA_HEADERS_MAX_BYTES
        ? undefined
        : `Plivo carries parameters in extraHeaders, ${EXTRA_HEADERS_MAX_BYTES} bytes at most; these need ${bytes} (names and values other than letters and digits take twice their size, hex-encoded)`;
    },
  },
};

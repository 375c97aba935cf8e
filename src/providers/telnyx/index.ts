/** Telnyx media streaming (see ../adapter.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { twilioAppFrames } from '../app-frames.js';
import { escapeXml, xml } from '../common/markup.js';
import { createTelnyxParser } from './parse.js';

export const telnyx: ProviderAdapter = {
  name: 'telnyx',
  appFrames: twilioAppFrames,
  createParser: (connection) => createTelnyxParser(connection),
  detect: (msg, start) => msg.stream_id !== undefined && start?.call_control_id !== undefined,
  answer: {
    /**
     * TeXML: both tracks; Telnyx's start names no tracks, so the URL says both. No parameters
     * (carriesParams). codec="PCMU": without it Telnyx streams the call's own codec, which may
     * be one calltape cannot decode (AMR-WB); PCMA calls are transcoded, G722 and OPUS calls
     * (which Telnyx does not transcode) are decoded by calltape.
     * (developers.telnyx.com/docs/voice/programmable-voice/texml-verbs/stream)
     */
    build: ({ streamUrl, pauseSeconds }) =>
      xml([
        '<Response>',
        '  <Start>',
        `    <Stream url="${escapeXml(`${streamUrl}?tracks=both`)}" track="both_tracks" codec="PCMU"/>`,
        '  </Start>',
        `  <Pause length="${pauseSeconds}"/>`,
        '</Response>',
      ]),
    // Its start carries no custom parameters that calltape knows of.
    carriesParams: false,
    callIdFields: [],
    tokenEncoding: 'base64url',
  },
};

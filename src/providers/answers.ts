/**
 * The markup that starts a stream to calltape, for providers that answer a call with one:
 * Telnyx TeXML, Plivo XML, Vonage NCCO, Bandwidth BXML and jambonz verbs (Twilio and
 * SignalWire have /twiml). Pure: the route supplies the stream URL and parameters.
 */
import { escapeXml } from './twilio/answer.js';

export interface AnswerInput {
  /** wss:// URL of the provider's stream route. */
  readonly streamUrl: string;
  /** Custom values to deliver in the stream's start (the per-call token among them). */
  readonly params: ReadonlyArray<readonly [string, string]>;
  /** How long to keep a call that only records up (seconds). */
  readonly pauseSeconds: number;
  /** calltape's longest recording (CALLTAPE_MAX_DURATION_MS), for providers' own stream limits. */
  readonly maxDurationSeconds: number;
}

export interface Answer {
  readonly contentType: string;
  readonly body: string;
}

const xml = (lines: string[]): Answer => ({
  contentType: 'text/xml; charset=utf-8',
  body: `<?xml version="1.0" encoding="UTF-8"?>\n${lines.join('\n')}\n`,
});
const json = (value: unknown): Answer => ({ contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(value, null, 2)}\n` });

export const ANSWERS = {
  /**
   * TeXML: both tracks; Telnyx's start names no tracks, so the URL says both. No parameters
   * (see CARRIES_PARAMS). codec="PCMU": without it Telnyx streams the call's own codec, which
   * may be one calltape cannot decode (AMR-WB); PCMA calls are transcoded, G722 and OPUS
   * calls (which Telnyx does not transcode) are decoded by calltape.
   * (developers.telnyx.com/docs/voice/programmable-voice/texml-verbs/stream)
   */
  telnyx: ({ streamUrl, pauseSeconds }: AnswerInput): Answer =>
    xml([
      '<Response>',
      '  <Start>',
      `    <Stream url="${escapeXml(`${streamUrl}?tracks=both`)}" track="both_tracks" codec="PCMU"/>`,
      '  </Start>',
      `  <Pause length="${pauseSeconds}"/>`,
      '</Response>',
    ]),
  /**
   * Plivo XML: the URL is the element's text; parameters travel in extraHeaders (letters and
   * digits only, checked by the route). streamTimeout is calltape's own max duration: the
   * stream then lasts as long as calltape would record it (Plivo's default is 86400 s).
   */
  plivo: ({ streamUrl, params, pauseSeconds, maxDurationSeconds }: AnswerInput): Answer => {
    const extra = params.map(([name, value]) => `${name}=${value}`).join(',');
    return xml([
      '<Response>',
      `  <Stream bidirectional="false" audioTrack="both" streamTimeout="${maxDurationSeconds}" contentType="audio/x-l16;rate=16000"${extra ? ` extraHeaders="${escapeXml(extra)}"` : ''}>${escapeXml(streamUrl)}</Stream>`,
      `  <Wait length="${pauseSeconds}"/>`,
      '</Response>',
    ]);
  },
  /** NCCO: connect the call to a websocket endpoint; headers arrive in the first frame. */
  vonage: ({ streamUrl, params }: AnswerInput): Answer =>
    json([
      {
        action: 'connect',
        endpoint: [{ type: 'websocket', uri: streamUrl, 'content-type': 'audio/l16;rate=16000', headers: Object.fromEntries(params) }],
      },
    ]),
  /** BXML: both tracks, parameters as <StreamParam>. */
  bandwidth: ({ streamUrl, params, pauseSeconds }: AnswerInput): Answer =>
    xml([
      '<Response>',
      `  <StartStream name="calltape" tracks="both" destination="${escapeXml(streamUrl)}">`,
      ...params.map(([name, value]) => `    <StreamParam name="${escapeXml(name)}" value="${escapeXml(value)}"/>`),
      '  </StartStream>',
      `  <Pause duration="${pauseSeconds}"/>`,
      '</Response>',
    ]),
  /** jambonz: a `listen` verb, stereo (caller left, other party right); metadata = parameters. */
  jambonz: ({ streamUrl, params }: AnswerInput): Answer =>
    json([{ verb: 'listen', url: streamUrl, mixType: 'stereo', sampleRate: 8000, metadata: Object.fromEntries(params) }]),
} as const satisfies Record<string, (input: AnswerInput) => Answer>;

export type AnswerProvider = keyof typeof ANSWERS;

/** Whether the provider's stream start delivers parameters from the markup (Telnyx's: none known). */
export const CARRIES_PARAMS: Record<AnswerProvider, boolean> = { telnyx: false, plivo: true, vonage: true, bandwidth: true, jambonz: true };

/** Where each provider's answer webhook names the call (the id its stream's start carries). */
export const CALL_ID_FIELDS: Record<AnswerProvider, readonly string[]> = {
  telnyx: [],
  plivo: ['CallUUID'],
  vonage: ['uuid'],
  bandwidth: ['callId'],
  jambonz: ['call_sid', 'callSid'],
};

/** The stream parameter under which the call id travels when the protocol has no id of its own. */
export const CALL_ID_PARAM: Partial<Record<AnswerProvider, string>> = { vonage: 'call_uuid' };

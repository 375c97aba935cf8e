/**
 * TwiML that starts a media stream (PROTOCOLS.md section 1.3). SignalWire's LaML accepts the
 * same markup. Custom values travel as <Parameter> elements because Twilio drops query
 * strings from stream URLs.
 */
import { escapeXml } from '../common/markup.js';
export type TwimlMode = 'start' | 'connect';
export interface StreamAnswer {
  readonly mode: TwimlMode;
  /** Absolute wss:// URL of the stream endpoint. */
  readonly streamUrl: string;
  readonly params: ReadonlyArray<readonly [string, string]>;
  /** start mode: spoken after the stream starts. */
  readonly say?: string | undefined;
  /** start mode: number or SIP URI to dial after the stream starts. */
  readonly dial?: string | undefined;
  /** start mode without dial: how long to keep the call up. */
  readonly pauseSeconds: number;
  /**
   * SignalWire's authBearerToken: SignalWire then sends `Authorization: Bearer <token>` on
   * the stream's upgrade (Twilio has no such attribute).
   */
  readonly bearerToken?: string | undefined;
}
export function buildTwiml(answer: StreamAnswer): string {
  const params = answer.params
    .map(([name, value]) => `      <Parameter name="${escapeXml(name)}" value="${escapeXml(value)}"/>\n`)
    .join('');
  const bearer = answer.bearerToken ? ` authBearerToken="${escapeXml(answer.bearerToken)}"` : '';
  const stream = `<Stream url="${escapeXml(answer.streamUrl)}"${bearer}`;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<Response>'];
  if (answer.mode === 'connect') {
    // <Connect><Stream> is bidirectional and receives only the inbound track.
    lines.push('  <Connect>', `    ${stream}>`);
    if (params) lines.push(params.trimEnd());
    lines.push('    </Stream>', '  </Connect>');
  } else {
    lines.push('  <Start>', `    ${stream} track="both_tracks">`);
    if (params) lines.push(params.trimEnd());
    lines.push('    </Stream>', '  </Start>');
    if (answer.say) lines.push(`  <Say>${escapeXml(answer.say)}</Say>`);
    if (answer.dial) lines.push(`  <Dial>${escapeXml(answer.dial)}</Dial>`);
    else lines.push(`  <Pause length="${answer.pauseSeconds}"/>`);
  }
  lines.push('</Response>');
  return `${lines.join('\n')}\n`;
}

/**
 * Text frames the binary-audio protocols send besides their audio (mod_audio_fork's
 * send_text, jambonz's DTMF and mark frames): whatever they carry is kept as an event of the
 * recording, never taken for the end of the stream.
 */
import { isRejected } from '../../errors.js';
import { NOTICE_TEXT_MAX_CHARS } from '../../limits.js';
import type { ParseResult } from '../../events.js';
import { isObject, readDtmf, readMark, type Json } from './json-frames.js';


function jsonObject(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * DTMF when the frame names a digit ({"event":"dtmf","dtmf":"5"} or {"dtmf":{"digit":"5"}}),
 * a mark when it names one ({"type":"mark","data":{"name":...}} or {"event":"mark","name":...}),
 * else a notice holding the text, so nothing the provider said is lost.
 */
export function textFrameEvent(text: string, source: string, dtmfDurationMs?: (raw: unknown) => unknown): ParseResult {
  const msg = jsonObject(text);
  if (msg) {
    const kind = msg.event ?? msg.type;
    if (kind === 'dtmf' || (kind === undefined && msg.dtmf !== undefined)) {
      const body = isObject(msg.dtmf) ? msg.dtmf : undefined;
      const rawDuration = body ? body.duration : msg.duration;
      const duration = dtmfDurationMs && rawDuration !== undefined ? dtmfDurationMs(rawDuration) : rawDuration;
      const dtmf = readDtmf(body, { digit: body ? body.digit : (msg.dtmf ?? msg.digit), duration });
      if (!isRejected(dtmf)) return dtmf;
    }
    if (kind === 'mark') {
      const data = isObject(msg.data) ? msg.data : isObject(msg.mark) ? msg.mark : msg;
      const mark = readMark(data.name);
      if (!isRejected(mark)) return mark;
    }
  }
  const shown = text.length > NOTICE_TEXT_MAX_CHARS ? `${text.slice(0, NOTICE_TEXT_MAX_CHARS)}…` : text;
  return { type: 'notice', level: 'info', message: `${source} text frame: ${shown}` };
}

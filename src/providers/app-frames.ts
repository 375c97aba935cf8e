/**
 * Frames an application sends back to the provider on a bidirectional stream, as the tee
 * reads them. Each provider names its three kinds its own way (Twilio, SignalWire, Telnyx
 * and Exotel: media / mark / clear; Plivo: playAudio / checkpoint / clearAudio); its adapter
 * holds the reader for its names. /streams/auto, which learns the provider only from the
 * stream, reads either.
 */
import { isRejected, rejection, type Rejection } from '../errors.js';
import { isBase64, readMark } from './common/json-frames.js';

export type AppFrame =
  | { readonly type: 'media'; readonly payload: string }
  | { readonly type: 'mark'; readonly name: string }
  | { readonly type: 'clear' };

export type AppFrameReader = (text: string) => AppFrame | Rejection;

/** The event names a provider's application frames use for each kind. */
interface AppFrameNames {
  readonly media: readonly string[];
  readonly mark: readonly string[];
  readonly clear: readonly string[];
}

function appFrameReader(names: AppFrameNames): AppFrameReader {
  return (text) => {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return rejection('CALLTAPE_ERR_INVALID_JSON', `sent frame of ${text.length} characters`);
    }
    if (typeof msg !== 'object' || msg === null) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'sent frame is not a JSON object');
    const frame = msg as { event?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown }; name?: unknown };
    const event = typeof frame.event === 'string' ? frame.event : '';
    if (names.media.includes(event)) {
      const payload = frame.media?.payload;
      if (typeof payload !== 'string' || !isBase64(payload)) return rejection('CALLTAPE_ERR_BAD_BASE64', 'sent media.payload is not base64');
      return { type: 'media', payload };
    }
    if (names.mark.includes(event)) {
      const mark = readMark(frame.mark?.name ?? frame.name);
      return isRejected(mark) ? rejection(mark.code, `sent ${mark.detail}`) : { type: 'mark', name: mark.name };
    }
    if (names.clear.includes(event)) return { type: 'clear' };
    return rejection('CALLTAPE_ERR_UNKNOWN_EVENT', `sent event ${JSON.stringify(String(frame.event)).slice(0, 40)}`);
  };
}

/** Twilio's names, which SignalWire, Telnyx and Exotel share. */
export const twilioAppFrames = appFrameReader({ media: ['media'], mark: ['mark'], clear: ['clear'] });
export const plivoAppFrames = appFrameReader({ media: ['playAudio'], mark: ['checkpoint'], clear: ['clearAudio'] });
/** Either provider's names: for a stream whose provider is not known in advance. */
export const anyAppFrames = appFrameReader({ media: ['media', 'playAudio'], mark: ['mark', 'checkpoint'], clear: ['clear', 'clearAudio'] });

/**
 * Frames an application sends back to the provider on a bidirectional stream, as the tee
 * reads them: Twilio's (and SignalWire's, Telnyx's, Exotel's) media / mark / clear, and
 * Plivo's playAudio / checkpoint / clearAudio.
 */
import { isRejected, rejection, type Rejection } from '../errors.js';
import { isBase64, readMark } from './common/json-frames.js';

export type AppFrame =
  | { readonly type: 'media'; readonly payload: string }
  | { readonly type: 'mark'; readonly name: string }
  | { readonly type: 'clear' };


export function parseAppFrame(text: string): AppFrame | Rejection {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return rejection('CALLTAPE_ERR_INVALID_JSON', `sent frame of ${text.length} characters`);
  }
  if (typeof msg !== 'object' || msg === null) return rejection('CALLTAPE_ERR_BAD_SHAPE', 'sent frame is not a JSON object');
  const frame = msg as { event?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown }; name?: unknown };
  switch (frame.event) {
    case 'media':
    case 'playAudio': {
      const payload = frame.media?.payload;
      if (typeof payload !== 'string' || !isBase64(payload)) {
        return rejection('CALLTAPE_ERR_BAD_BASE64', 'sent media.payload is not base64');
      }
      return { type: 'media', payload };
    }
    case 'mark':
    case 'checkpoint': {
      const mark = readMark(frame.mark?.name ?? frame.name);
      return isRejected(mark) ? rejection(mark.code, `sent ${mark.detail}`) : { type: 'mark', name: mark.name };
    }
    case 'clear':
    case 'clearAudio':
      return { type: 'clear' };
    default:
      return rejection('CALLTAPE_ERR_UNKNOWN_EVENT', `sent event ${JSON.stringify(String(frame.event)).slice(0, 40)}`);
  }
}

/**
 * /streams/auto: finds the provider from the handshake and the first frames, then hands
 * every frame (the held ones first) to that provider's parser. Rules, after pipecat's
 * detector plus the binary family:
 *   subprotocol audio.jambonz.org -> jambonz; audio.drachtio.org -> freeswitch;
 *   a binary frame first -> freeswitch (raw L16, format from the URL);
 *   start.streamSid + start.callSid -> exotel when Exotel's marks show (looksLikeExotel),
 *   else twilio, or signalwire when the ids are UUIDs;
 *   stream_id + start.call_control_id -> telnyx; start.streamId + start.callId -> plivo;
 *   start.stream_sid/stream_sid + start.call_sid -> exotel; eventType -> bandwidth;
 *   event websocket:connected -> vonage; sampleRate/mixType with a callSid -> jambonz;
 *   `connected` frames are held until the start decides.
 */
import { rejection } from '../../errors.js';
import { AUTO_DETECT_HELD_FRAMES } from '../../limits.js';
import type { ConnectionInfo, FrameParser, ParseOutput, ParseResult } from '../../events.js';
import { isObject, type Json } from '../common/json-frames.js';
import { FREESWITCH_SUBPROTOCOL } from '../freeswitch/parse.js';
import { JAMBONZ_SUBPROTOCOL } from '../jambonz/parse.js';
import { isTwilioSid, isUuid } from '../twilio/ids.js';


type Held = { readonly text: string } | { readonly binary: Uint8Array };

export function detectFromSubprotocol(subprotocol: string | undefined): string | undefined {
  if (subprotocol === JAMBONZ_SUBPROTOCOL) return 'jambonz';
  if (subprotocol === FREESWITCH_SUBPROTOCOL) return 'freeswitch';
  return undefined;
}

/** The provider a JSON frame identifies, 'wait' for a frame that does not decide, or undefined. */
export function detectFromMessage(msg: Json): string | 'wait' | undefined {
  const start = isObject(msg.start) ? msg.start : undefined;
  if (msg.event === 'websocket:connected') return 'vonage';
  if (typeof msg.eventType === 'string') return 'bandwidth';
  if (start) {
    if (start.streamSid !== undefined && start.callSid !== undefined) {
      if (looksLikeExotel(msg, start)) return 'exotel';
      return isUuid(start.callSid) ? 'signalwire' : 'twilio';
    }
    if (msg.stream_id !== undefined && start.call_control_id !== undefined) return 'telnyx';
    if (start.streamId !== undefined && start.callId !== undefined) return 'plivo';
    if ((start.stream_sid !== undefined || msg.stream_sid !== undefined) && start.call_sid !== undefined) return 'exotel';
  }
  if (msg.event === undefined && typeof msg.callSid === 'string' && (msg.sampleRate !== undefined || msg.mixType !== undefined)) return 'jambonz';
  if (msg.event === 'connected') return 'wait';
  return undefined;
}

/**
 * Exotel's camelCase start (its stream protocol document) has Twilio's field names; it is
 * told apart by what Twilio and SignalWire never send: snake_case envelope fields, the
 * caller's numbers in the start, a bit rate, or a call id that is neither a Twilio CA SID
 * nor a UUID (Exotel's are bare hex).
 */
function looksLikeExotel(msg: Json, start: Json): boolean {
  if (msg.stream_sid !== undefined || msg.sequence_number !== undefined) return true;
  if (start.from !== undefined || start.to !== undefined) return true;
  const format = isObject(start.mediaFormat) ? start.mediaFormat : undefined;
  if (format && (format.bitRate !== undefined || format.bit_rate !== undefined)) return true;
  return !isTwilioSid(start.callSid, 'CA') && !isUuid(start.callSid);
}

export function createAutoParser(connection: ConnectionInfo, createParser: (provider: string, connection: ConnectionInfo) => FrameParser): FrameParser {
  let provider = detectFromSubprotocol(connection.subprotocol);
  let delegate = provider ? createParser(provider, connection) : undefined;
  const held: Held[] = [];

  function decide(name: string): ParseOutput {
    provider = name;
    delegate = createParser(name, connection);
    const results: ParseResult[] = [];
    for (const frame of held.splice(0)) {
      const output = 'text' in frame ? delegate.parseText(frame.text) : delegate.parseBinary(frame.binary);
      results.push(...(Array.isArray(output) ? output : [output as ParseResult]));
    }
    return results.map(tagged);
  }

  /** Start events say which provider was found, for meta.json and the catalog. */
  function tagged(result: ParseResult): ParseResult {
    if ('type' in result) return result.type === 'start' ? { ...result, provider } : result;
    // A refused start names its provider too, for the failed recording it leaves.
    return result.refusedStart ? rejection(result.code, result.detail, { ...result.refusedStart, provider }) : result;
  }

  function forward(output: ParseOutput): ParseOutput {
    return Array.isArray(output) ? output.map(tagged) : tagged(output as ParseResult);
  }

  function undecided(): ParseOutput {
    if (held.length < AUTO_DETECT_HELD_FRAMES) return [];
    held.length = 0;
    return rejection('CALLTAPE_ERR_UNKNOWN_PROVIDER', `no provider recognised in the first ${AUTO_DETECT_HELD_FRAMES} frames`);
  }

  return {
    parseText(text: string): ParseOutput {
      if (delegate) return forward(delegate.parseText(text));
      held.push({ text });
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        msg = undefined;
      }
      const found = isObject(msg) ? detectFromMessage(msg) : undefined;
      if (found && found !== 'wait') return decide(found);
      return undecided();
    },
    // Once decided, media frames take the provider's fast path where it has one.
    readMedia: (frame, out, audio) => delegate?.readMedia?.(frame, out, audio) ?? false,
    parseBinary(data: Uint8Array): ParseOutput {
      if (delegate) return forward(delegate.parseBinary(data));
      held.push({ binary: data });
      // Audio before any text: only mod_audio_fork streams that way (metadata is optional).
      return decide('freeswitch');
    },
  };
}

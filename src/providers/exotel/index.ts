/** Exotel AgentStream / Voicebot (see ../adapter.ts). */
import type { ProviderAdapter } from '../adapter.js';
import { twilioAppFrames } from '../app-frames.js';
import type { Json } from '../common/json-frames.js';
import { isObject } from '../common/json-frames.js';
import { expectSecret } from '../common/secrets.js';
import { isTwilioSid, isUuid } from '../twilio/ids.js';
import { createExotelParser } from './parse.js';

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

export const exotel: ProviderAdapter = {
  name: 'exotel',
  appFrames: twilioAppFrames,
  createParser: (connection) => createExotelParser(connection),
  detect: (msg, start) =>
    start !== undefined &&
    (((start.stream_sid !== undefined || msg.stream_sid !== undefined) && start.call_sid !== undefined) ||
      (start.streamSid !== undefined && start.callSid !== undefined && looksLikeExotel(msg, start))),
  /** HTTP Basic key:token (its wss://key:token@host URLs). */
  upgradeCheck: {
    configured: (config) => config.exotelBasicAuth !== undefined,
    check: (config, request) => expectSecret(request.basic(), config.exotelBasicAuth!, 'Authorization: Basic'),
  },
};

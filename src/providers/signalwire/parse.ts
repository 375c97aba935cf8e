/**
 * SignalWire <Stream> speaks Twilio's protocol (PROTOCOLS.md section 2) with UUID ids (Twilio-
 * style SIDs are accepted too, for its compatibility API), L16 at 8/16/24 kHz besides
 * mu-law, a stop without body and dtmf.duration. Only the dialect differs.
 */
import { isTwilioSid, isUuid } from '../twilio/ids.js';
import type { SingleResultParser } from '../../events.js';
import { createTwilioParser, type TwilioDialect } from '../twilio/parse.js';

export const SIGNALWIRE_DIALECT: TwilioDialect = {
  provider: 'signalwire',
  isCallId: (v): v is string => isUuid(v) || isTwilioSid(v, 'CA'),
  isStreamId: (v): v is string => isUuid(v) || isTwilioSid(v, 'MZ'),
  isAccountId: (v): v is string => isUuid(v) || isTwilioSid(v, 'AC'),
  // The byte order of SignalWire's L16 is not documented: 'l16' lets the session detect it.
  encodings: new Map([
    ['audio/x-mulaw', 'mulaw'],
    ['audio/x-l16', 'l16'],
    ['audio/l16', 'l16'],
  ]),
};

export function createSignalwireParser(): SingleResultParser {
  return createTwilioParser(SIGNALWIRE_DIALECT);
}

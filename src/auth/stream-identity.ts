/**
 * Which providers' credentials govern a stream, judged from its start: the provider whose
 * protocol it speaks, and the provider whose ids it carries. SignalWire's protocol is
 * Twilio's, so a start with Twilio ids on /streams/signalwire claims to be a Twilio call,
 * and one with SignalWire's UUID call ids on /streams/twilio claims to be SignalWire's: with
 * that provider's credential configured, the stream must have proven it at the upgrade,
 * whatever route it came in on.
 */
import type { StartEvent } from '../events.js';
import { isTwilioSid, isUuid } from '../providers/twilio/ids.js';

const TWILIO_FAMILY = new Set(['twilio', 'signalwire']);

export function claimedProviders(provider: string, start: StartEvent): string[] {
  const claims = [provider];
  if (TWILIO_FAMILY.has(provider)) {
    if (isTwilioSid(start.callId, 'CA')) claims.push('twilio');
    else if (isUuid(start.callId)) claims.push('signalwire');
  }
  return [...new Set(claims)];
}

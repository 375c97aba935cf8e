/**
 * Id formats. Ids come from the network and name directories, so they are checked against
 * the provider's documented format and rejected otherwise, never cleaned up into a path.
 */

const TWILIO_SID = /^[A-Z]{2}[0-9a-fA-F]{32}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A Twilio SID with the given two-letter prefix (CA call, MZ stream, AC account). */
export function isTwilioSid(value: unknown, prefix: 'CA' | 'MZ' | 'AC'): value is string {
  return typeof value === 'string' && value.length === 34 && value.startsWith(prefix) && TWILIO_SID.test(value);
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && UUID.test(value);
}

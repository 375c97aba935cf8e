/**
 * The providers calltape accepts streams from. Each contributes a parser (frames ->
 * normalized events); the media path after it is shared.
 */
import type { FrameParser } from '../events.js';
import { createSignalwireParser } from './signalwire/parse.js';
import { createTwilioParser } from './twilio/parse.js';

export const PROVIDERS = {
  twilio: createTwilioParser,
  signalwire: createSignalwireParser,
} as const satisfies Record<string, () => FrameParser>;

export type ProviderName = keyof typeof PROVIDERS;

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[];

export function isProviderName(value: string): value is ProviderName {
  return Object.hasOwn(PROVIDERS, value);
}

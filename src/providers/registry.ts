/**
 * The providers calltape accepts streams from. Each contributes a parser (frames ->
 * normalized events), made per stream with what the handshake told; the media path after it
 * is shared. Adding a provider is adding a folder and a line here.
 */
import type { ConnectionInfo, FrameParser } from '../events.js';
import { createAutoParser } from './auto/parse.js';
import { createBandwidthParser } from './bandwidth/parse.js';
import { createExotelParser } from './exotel/parse.js';
import { createFreeswitchParser, FREESWITCH_SUBPROTOCOL } from './freeswitch/parse.js';
import { createJambonzParser, JAMBONZ_SUBPROTOCOL } from './jambonz/parse.js';
import { createPlivoParser } from './plivo/parse.js';
import { createSignalwireParser } from './signalwire/parse.js';
import { createTelnyxParser } from './telnyx/parse.js';
import { createTwilioParser } from './twilio/parse.js';
import { createVonageParser } from './vonage/parse.js';

export interface ProviderAdapter {
  createParser(connection: ConnectionInfo): FrameParser;
  /** WebSocket subprotocols the provider asks for; the server agrees to them. */
  readonly subprotocols?: readonly string[];
}

const ADAPTERS = {
  twilio: { createParser: () => createTwilioParser() },
  signalwire: { createParser: () => createSignalwireParser() },
  telnyx: { createParser: (connection) => createTelnyxParser(connection) },
  plivo: { createParser: () => createPlivoParser() },
  exotel: { createParser: (connection) => createExotelParser(connection) },
  bandwidth: { createParser: () => createBandwidthParser() },
  vonage: { createParser: () => createVonageParser() },
  jambonz: { createParser: () => createJambonzParser(), subprotocols: [JAMBONZ_SUBPROTOCOL] },
  freeswitch: { createParser: (connection) => createFreeswitchParser(connection), subprotocols: [FREESWITCH_SUBPROTOCOL] },
} as const satisfies Record<string, ProviderAdapter>;

type ConcreteProvider = keyof typeof ADAPTERS;

export const PROVIDERS: Record<ConcreteProvider | 'auto', ProviderAdapter> = {
  ...ADAPTERS,
  auto: {
    createParser: (connection) => createAutoParser(connection, (name, conn) => ADAPTERS[name as ConcreteProvider].createParser(conn)),
    subprotocols: [JAMBONZ_SUBPROTOCOL, FREESWITCH_SUBPROTOCOL],
  },
};

export type ProviderName = keyof typeof PROVIDERS;

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[];

export function isProviderName(value: string): value is ProviderName {
  return Object.hasOwn(PROVIDERS, value);
}

/** Every subprotocol some provider asks for. */
export const KNOWN_SUBPROTOCOLS: ReadonlySet<string> = new Set(Object.values(PROVIDERS).flatMap((adapter) => adapter.subprotocols ?? []));

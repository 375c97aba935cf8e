/**
 * The providers calltape accepts streams from: one adapter per provider folder (see
 * adapter.ts), and `auto`, which finds the provider from the handshake and the first frames.
 * Adding a provider is adding a folder and a line here.
 */
import type { ConnectionInfo, FrameParser } from '../events.js';
import type { ProviderAdapter } from './adapter.js';
import { anyAppFrames } from './app-frames.js';
import { createAutoParser } from './auto/parse.js';
import { acs } from './acs/index.js';
import { asterisk } from './asterisk/index.js';
import { bandwidth } from './bandwidth/index.js';
import { exotel } from './exotel/index.js';
import { freeswitch } from './freeswitch/index.js';
import { genesys } from './genesys/index.js';
import { jambonz } from './jambonz/index.js';
import { plivo } from './plivo/index.js';
import { signalwire } from './signalwire/index.js';
import { sinch } from './sinch/index.js';
import { telnyx } from './telnyx/index.js';
import { twilio } from './twilio/index.js';
import { vonage } from './vonage/index.js';

export type { ProviderAdapter } from './adapter.js';

/** Every provider, in the order routes and logs list them. */
export const ADAPTERS: readonly ProviderAdapter[] = [twilio, signalwire, telnyx, plivo, exotel, bandwidth, vonage, jambonz, freeswitch, sinch, acs, asterisk, genesys];

/**
 * The order /streams/auto asks the adapters whether a first frame is theirs: Exotel's
 * camelCase start has Twilio's field names, so Exotel is asked before Twilio and SignalWire.
 */
const DETECTION_ORDER: readonly ProviderAdapter[] = [vonage, bandwidth, exotel, signalwire, twilio, telnyx, plivo, jambonz, sinch, acs, genesys, asterisk, freeswitch];

/** The route that detects its provider. */
export const AUTO = 'auto';

const byName = new Map(ADAPTERS.map((adapter) => [adapter.name, adapter]));

const auto: ProviderAdapter = {
  name: AUTO,
  createParser: (connection: ConnectionInfo): FrameParser =>
    createAutoParser(connection, DETECTION_ORDER, (name, conn) => byName.get(name)!.createParser(conn)),
  subprotocols: ADAPTERS.flatMap((adapter) => adapter.subprotocols ?? []),
  appFrames: anyAppFrames,
};

export type ProviderName = 'twilio' | 'signalwire' | 'telnyx' | 'plivo' | 'exotel' | 'bandwidth' | 'vonage' | 'jambonz' | 'freeswitch' | 'sinch' | 'acs' | 'asterisk' | 'genesys' | 'auto';

export const PROVIDERS: Readonly<Record<ProviderName, ProviderAdapter>> = Object.fromEntries(
  [...ADAPTERS, auto].map((adapter) => [adapter.name, adapter]),
) as Record<ProviderName, ProviderAdapter>;

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as ProviderName[];

export function isProviderName(value: string): value is ProviderName {
  return Object.hasOwn(PROVIDERS, value);
}

/** Every subprotocol some provider asks for. */
export const KNOWN_SUBPROTOCOLS: ReadonlySet<string> = new Set(auto.subprotocols);

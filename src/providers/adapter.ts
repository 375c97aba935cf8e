/**
 * Everything calltape knows about one provider, in one object exported by the provider's
 * folder (`src/providers/<name>/index.ts`): how to parse its stream, which subprotocol it
 * asks for, how /streams/auto recognises it, how its stream upgrade proves itself, and the
 * markup that answers its calls. The registry, /streams/auto, the stream and answer routes
 * and the start-up line iterate over these; nothing outside src/providers names a provider.
 */
import type { Config } from '../config.js';
import type { ConnectionInfo, FrameParser } from '../events.js';
import type { AppFrameReader } from './app-frames.js';
import type { Json } from './common/json-frames.js';
import type { Answer, AnswerInput } from './common/markup.js';

/** What a provider's upgrade check sees of the request (the HTTP layer provides it). */
export interface UpgradeRequest {
  header(name: string): string | undefined;
  /** Authorization: Bearer <token>. */
  bearer(): string | undefined;
  /** `user:password` of Authorization: Basic. */
  basic(): string | undefined;
  /** The URL as the provider requested it (public scheme, host, path and query). */
  publicUrl(): string;
  /** The request target as sent (path and query, undecoded). */
  target(): string;
}

export interface UpgradeCheck {
  /** Whether the credential this check needs is configured. */
  configured(config: Config): boolean;
  /**
   * Throws (or rejects with) CALLTAPE_ERR_UNAUTHENTICATED (missing) or CALLTAPE_ERR_FORBIDDEN
   * (wrong). Asynchronous where the proof needs a key from elsewhere (ACS's signing keys).
   */
  check(config: Config, request: UpgradeRequest): void | Promise<void>;
}

/** The markup that answers a provider's call webhook with a stream to calltape (/answer/<name>). */
export interface AnswerSpec {
  build(input: AnswerInput): Answer;
  /** Whether the stream's start delivers parameters from the markup. */
  readonly carriesParams: boolean;
  /** Where the answer webhook names the call (the id its stream's start carries). */
  readonly callIdFields: readonly string[];
  /** The stream parameter the call id travels under when the protocol has no id of its own. */
  readonly callIdParam?: string;
  /** How the per-call stream token is written where the parameters travel. */
  readonly tokenEncoding: 'hex' | 'base64url';
  /** Why a param.* name or value cannot travel in this markup, beyond the common rule. */
  paramProblem?(name: string, value: string): string | undefined;
  /** Why all the stream's parameters together (token included) cannot travel in this markup. */
  paramsProblem?(params: ReadonlyArray<readonly [string, string]>): string | undefined;
}

/** /twiml answers for the providers that speak TwiML. */
export interface TwimlSpec {
  /** Whether an answer webhook's CallSid is this provider's. */
  isCallSid(value: unknown): boolean;
  /** A secret the <Stream> must name so the provider sends it on the upgrade. */
  bearerToken?(config: Config): string | undefined;
}

export interface ProviderAdapter {
  readonly name: string;
  createParser(connection: ConnectionInfo): FrameParser;
  /** WebSocket subprotocols the provider asks for; the server agrees to them. */
  readonly subprotocols?: readonly string[];
  /** /streams/auto: whether a stream's first JSON frame is this provider's. */
  detect?(msg: Json, start: Json | undefined): boolean;
  /** /streams/auto: whether the upgrade's headers alone name this provider (Genesys's Audiohook-Session-Id). */
  detectHeaders?(headers: Readonly<Record<string, string | string[] | undefined>>): boolean;
  /** /streams/auto: whether a first text frame that is not JSON is this provider's (Asterisk's plain-text MEDIA_START). */
  detectText?(text: string): boolean;
  readonly upgradeCheck?: UpgradeCheck;
  readonly answer?: AnswerSpec;
  readonly twiml?: TwimlSpec;
  /** Reads what the application sends back on a bidirectional stream (for the bot-audio tee). */
  readonly appFrames?: AppFrameReader;
}

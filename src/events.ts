/**
 * The normalized stream events. Everything provider-specific ends in a provider's parser;
 * everything after it (session, timeline, files) sees only these shapes.
 */
import type { Rejection } from './errors.js';

export type TrackName = 'inbound' | 'outbound';
export const TRACK_NAMES: readonly TrackName[] = ['inbound', 'outbound'];

/**
 * Wire encodings calltape can decode. `l16` without a byte order means the provider did not
 * say which; the session then detects it from the audio (see codec/l16.ts).
 */
export type WireEncoding = 'mulaw' | 'l16' | 'l16be' | 'l16le';

export interface MediaFormat {
  readonly encoding: WireEncoding;
  readonly sampleRate: number;
  /** Channels per track frame as the provider declares it; calltape records per-track mono. */
  readonly channels: number;
}

export interface ConnectedEvent {
  readonly type: 'connected';
  readonly protocol?: string;
  readonly version?: string;
}

export interface StartEvent {
  readonly type: 'start';
  readonly callId: string;
  readonly streamId: string;
  readonly accountId?: string;
  readonly tracks: readonly TrackName[];
  readonly format: MediaFormat;
  readonly params: Readonly<Record<string, string>>;
}

export interface AudioEvent {
  readonly type: 'audio';
  readonly track: TrackName;
  /** Milliseconds since the stream started, one time base for every track; absent = append. */
  readonly timestampMs: number | undefined;
  /** Base64 text (decoded straight into the session's scratch buffer) or raw bytes. */
  readonly payload: string | Uint8Array;
  /** The stream id the frame names, when the protocol repeats it on every frame. */
  readonly streamId: string | undefined;
}

export interface DtmfEvent {
  readonly type: 'dtmf';
  readonly digit: string;
  readonly track?: string;
  readonly durationMs?: number;
}

export interface MarkEvent {
  readonly type: 'mark';
  readonly name: string;
}

export interface StopEvent {
  readonly type: 'stop';
}

export type StreamEvent = ConnectedEvent | StartEvent | AudioEvent | DtmfEvent | MarkEvent | StopEvent;

/** What a provider parser returns for one frame: an event, or a rejection to count. */
export type ParseResult = StreamEvent | Rejection;

export function isRejection(result: ParseResult): result is Rejection {
  return 'code' in result;
}

/** A provider's parser: pure, one frame in, one result out, no I/O, never throws. */
export interface FrameParser {
  parseText(text: string): ParseResult;
  parseBinary(data: Uint8Array): ParseResult;
}

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
export type WireEncoding = 'mulaw' | 'alaw' | 'l16' | 'l16be' | 'l16le' | 'g722' | 'opus';

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
  /** Set by a parser that found out which provider it speaks (/streams/auto). */
  readonly provider?: string;
  /**
   * What one-channel audio holds when the provider cannot split the parties: `mixed` = both
   * parties in one channel (recorded as the inbound track). Absent: the track is one party.
   */
  readonly mix?: 'mixed';
  /**
   * Neither the provider's start nor the stream URL named the tracks: both are prepared,
   * and a track the provider never sends is left out of the files at the end (meta.json
   * says `tracksInferred`).
   */
  readonly tracksInferred?: true;
  /**
   * This stream carries one direction (`track`) of a call whose other direction comes on
   * another stream with the same `key` (Asterisk: a snoop channel per direction): the two
   * are joined into one two-track recording (recording/stream-joins.ts).
   */
  readonly join?: { readonly key: string; readonly track: TrackName };
}

export interface AudioEvent {
  readonly type: 'audio';
  readonly track: TrackName;
  /**
   * Milliseconds since the stream started, one time base for every track. Absent for
   * protocols without timestamps: the session then places audio by arrival (arrival-clock.ts).
   */
  readonly timestampMs: number | undefined;
  /** Base64 text (decoded straight into the session's scratch buffer) or raw bytes. */
  readonly payload: string | Uint8Array;
  /** Bytes of `payload` that are the audio, when fewer than all (a fast-read frame's scratch). */
  readonly payloadBytes?: number | undefined;
  /** The stream id the frame names, when the protocol repeats it on every frame. */
  readonly streamId: string | undefined;
  /** Read from the frame's bytes: where the stream id is in them (no string is made). */
  readonly streamIdSpan?: ByteSpan | undefined;
}

/** Bytes [start, end) of `bytes`. */
export interface ByteSpan {
  readonly bytes: Uint8Array;
  readonly start: number;
  readonly end: number;
}

/** What a media frame said, filled in place by a fast reader (one instance per stream, reused). */
export interface MediaFields {
  /** 0 inbound, 1 outbound. */
  track: 0 | 1;
  /** Milliseconds, or -1 when the frame has no timestamp. */
  timestampMs: number;
  /** Audio bytes decoded into the buffer passed to the reader. */
  payloadBytes: number;
  /** Where the stream id's characters are in the frame; -1 when the frame has none. */
  streamIdStart: number;
  streamIdEnd: number;
}

/** Reads a media frame from its bytes into `out`, its audio into `audio`; false: not sure, parse it. */
export type MediaFrameReader = (frame: Uint8Array, out: MediaFields, audio: Uint8Array) => boolean;

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

/**
 * Something the provider reported (Telnyx's `error` event, a FreeSWITCH send_text frame):
 * logged at its level; warn and info are kept in meta.json, debug only logged.
 */
export interface NoticeEvent {
  readonly type: 'notice';
  readonly level: 'debug' | 'info' | 'warn';
  readonly message: string;
}

/**
 * A message the protocol requires the server to send back (Sinch's `answer` to its
 * ConnectRequest, without which no audio flows), sent on the stream's socket as text.
 */
export interface ReplyEvent {
  readonly type: 'reply';
  readonly text: string;
}

/**
 * The provider paused the stream and sent no audio from `fromMs` to `toMs` (AudioHook's
 * `paused` … `resumed {start, discarded}`): a pause span like one asked for through the API,
 * kept as silence or left out (`behavior`).
 */
export interface PauseSpanEvent {
  readonly type: 'pause-span';
  readonly fromMs: number;
  readonly toMs: number;
  readonly behavior: 'silence' | 'skip';
}

/**
 * The provider sends no audio on purpose (an AudioHook pause) and has just shown it is still
 * there (a ping): the idle limit, which only audio resets otherwise, starts over.
 */
export interface AliveEvent {
  readonly type: 'alive';
}

export type StreamEvent = ConnectedEvent | StartEvent | AudioEvent | DtmfEvent | MarkEvent | StopEvent | NoticeEvent | ReplyEvent | PauseSpanEvent | AliveEvent;

/** What a provider parser returns for one frame: an event, or a rejection to count. */
export type ParseResult = StreamEvent | Rejection;

/**
 * Most frames yield one result; a few yield several (a binary protocol's first audio frame
 * also starts the stream, a stereo frame carries both tracks, auto-detection replays the
 * frames it held).
 */
export type ParseOutput = ParseResult | readonly ParseResult[];

export function isRejection(result: ParseResult): result is Rejection {
  return 'code' in result;
}

/**
 * A provider's parser, one per stream: frames in, results out, no I/O, never throws. It may
 * keep state between frames (binary protocols learn the format from their first frame).
 */
export interface FrameParser {
  parseText(text: string): ParseOutput;
  parseBinary(data: Uint8Array): ParseOutput;
  /**
   * Optional fast path for a recording stream's media frames, read from the text frame's
   * bytes (see providers/common/media-frame-bytes.ts). False: use parseText.
   */
  readonly readMedia?: MediaFrameReader;
  /**
   * The message the protocol wants before the server closes the socket itself (AudioHook's
   * `disconnect` with its reason), given why (an error code, or the end reason); undefined
   * when the protocol has none or it was already said.
   */
  closingFrame?(why: string): string | undefined;
}

/**
 * A stream's frames as the session takes them: one parse() per frame, media read from the
 * frame's bytes where the provider's parser has a fast path (see providers/frame-reader.ts).
 * Audio comes out as bytes; an audio event may be reused for the next frame.
 */
export interface StreamParser {
  parse(data: Buffer | string, isBinary: boolean): ParseOutput;
  /** See FrameParser.closingFrame. */
  closingFrame?(why: string): string | undefined;
}

/** A parser whose every frame yields exactly one result (the JSON protocols). */
export interface SingleResultParser extends FrameParser {
  parseText(text: string): ParseResult;
  parseBinary(data: Uint8Array): ParseResult;
}

/** What the WebSocket handshake told about the stream, for parsers that need it. */
export interface ConnectionInfo {
  /** The subprotocol the server agreed to, if any. */
  readonly subprotocol?: string | undefined;
  /** Query parameters of the stream URL. */
  readonly query?: URLSearchParams | undefined;
  /** Request headers (lower-case names). */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>> | undefined;
  /**
   * Providers whose upgrade credentials are configured and were not valid on this upgrade. A
   * stream that is (or claims the ids of) one of them is refused at its start
   * (CALLTAPE_ERR_UNVERIFIED_PROVIDER), on any route: no route is a way around a provider's
   * own check.
   */
  readonly unverified?: ReadonlySet<string> | undefined;
  /** Providers whose configured upgrade credentials this upgrade carried. */
  readonly verified?: ReadonlySet<string> | undefined;
}

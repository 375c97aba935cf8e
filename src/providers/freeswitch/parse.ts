/**
 * FreeSWITCH mod_audio_fork (PROTOCOLS.md section 3), subprotocol `audio.drachtio.org`:
 * an optional metadata text frame (whatever `uuid_audio_fork ... start <url> <mix> <rate>
 * <metadata>` was given), then binary 16-bit little-endian PCM: mono (caller), mixed, or
 * stereo (caller left, callee right) at 8 or 16 kHz. The mix and rate are not sent in-band,
 * so they come from the stream URL: /streams/freeswitch?mix=stereo&rate=16000 (defaults
 * mono, 8000). After the metadata, `uuid_audio_fork <uuid> send_text <text>` may send any
 * text at any time (its README's example: DTMF), and `stop <text>` an optional last one
 * before closing; the two cannot be told apart, so every later text frame is kept as an
 * event (DTMF when it names a digit, else a notice) and the socket's close ends the
 * recording. (drachtio-freeswitch-modules, modules/mod_audio_fork/README.md.)
 *
 * mod_audio_stream (amigniter/mod_audio_stream, README: `uuid_audio_stream <uuid> start <url>
 * <mix-type> <sampling-rate> <metadata>`) streams the same way without a subprotocol, its
 * rate given as `8k`/`16k`. Where the metadata frame names the format (`sampleRate`, `rate`,
 * `mix`, `channels`), it must agree with the URL's, or the stream is refused: a 16 kHz or
 * stereo stream is never recorded as 8 kHz mono. With no `rate`/`mix` in the URL, the
 * metadata's are taken.
 */
import { isRejected, rejection } from '../../errors.js';
import type { ConnectionInfo, FrameParser, ParseOutput, ParseResult } from '../../events.js';
import { binaryAudio, binaryStart, isBinaryRate, type BinaryStreamFormat, type ChannelLayout } from '../common/binary-l16.js';
import { describe, isObject, type Json } from '../common/json-frames.js';
import { textFrameEvent } from '../common/text-events.js';

export const FREESWITCH_SUBPROTOCOL = 'audio.drachtio.org';

/** What the URL says of the format, each part only where it says it. */
interface DeclaredFormat {
  readonly sampleRate?: number;
  readonly layout?: ChannelLayout;
}

/** `8000`, 8000, `8k`, `16k` (mod_audio_stream's spelling). */
function rateOf(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  const match = text === undefined ? null : /^(\d{1,6})(k?)$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (match[2] ? 1000 : 1);
}

function checked(format: DeclaredFormat, where: string): DeclaredFormat | ReturnType<typeof rejection> {
  if (format.sampleRate !== undefined && !isBinaryRate(format.sampleRate)) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `${where} rate ${format.sampleRate}`);
  return format;
}

function formatInQuery(query: URLSearchParams | undefined): DeclaredFormat | ReturnType<typeof rejection> {
  const rateText = query?.get('rate') ?? undefined;
  const rate = rateText === undefined ? undefined : rateOf(rateText);
  if (rateText !== undefined && rate === undefined) return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `rate ${describe(rateText)}`);
  const mix = query?.get('mix') ?? undefined;
  if (mix !== undefined && mix !== 'mono' && mix !== 'mixed' && mix !== 'stereo') return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `mix ${describe(mix)}`);
  return checked({ ...(rate !== undefined ? { sampleRate: rate } : {}), ...(mix !== undefined ? { layout: mix } : {}) }, 'the URL\'s');
}

/**
 * What a metadata frame says of the format, where it clearly says it: a key of its own may
 * mean something else (`rate: "gold"`), so only a value that reads as a sample rate (8000,
 * `16k`), a mix, or 1 or 2 channels counts.
 */
function formatInMetadata(metadata: Json): DeclaredFormat | ReturnType<typeof rejection> {
  const rates = [metadata.sampleRate, metadata.sample_rate, metadata.samplingRate, metadata.sampling_rate, metadata.rate].map(rateOf).filter((r): r is number => r !== undefined && r >= 1000);
  const rate = rates[0];
  const mixValue = [metadata.mix, metadata.mixType, metadata.mix_type].find((m) => m === 'mono' || m === 'mixed' || m === 'stereo') as ChannelLayout | undefined;
  const channels = metadata.channels === 1 || metadata.channels === 2 ? metadata.channels : undefined;
  if (mixValue !== undefined && channels !== undefined && (channels === 2) !== (mixValue === 'stereo')) {
    return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `the metadata says ${channels} channels and mix ${mixValue}`);
  }
  const layout = mixValue ?? (channels === undefined ? undefined : channels === 2 ? 'stereo' : 'mono');
  return checked({ ...(rate !== undefined ? { sampleRate: rate } : {}), ...(layout !== undefined ? { layout } : {}) }, 'the metadata\'s');
}

/** The URL's format and the metadata's, which must agree where both speak; defaults mono, 8000. */
function agreedFormat(url: DeclaredFormat, metadata: DeclaredFormat): BinaryStreamFormat | ReturnType<typeof rejection> {
  if (url.sampleRate !== undefined && metadata.sampleRate !== undefined && url.sampleRate !== metadata.sampleRate) {
    return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `the URL says rate ${url.sampleRate} and the metadata ${metadata.sampleRate}: the audio would be recorded at the wrong speed`);
  }
  if (url.layout !== undefined && metadata.layout !== undefined && url.layout !== metadata.layout) {
    return rejection('CALLTAPE_ERR_UNSUPPORTED_FORMAT', `the URL says mix ${url.layout} and the metadata ${metadata.layout}`);
  }
  return { sampleRate: url.sampleRate ?? metadata.sampleRate ?? 8000, layout: url.layout ?? metadata.layout ?? 'mono' };
}

/** Metadata is usually JSON; anything else is kept whole as the `metadata` parameter. */
function metadataOf(text: string): Json {
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value)) return value;
  } catch {
    // not JSON
  }
  return { metadata: text.slice(0, 2000) };
}

export function createFreeswitchParser(connection: ConnectionInfo = {}): FrameParser {
  const declared = formatInQuery(connection.query);
  /** Settled by the metadata frame, or by audio first (then the URL's, or the defaults). */
  let format: BinaryStreamFormat | ReturnType<typeof rejection> | undefined = isRejected(declared) ? declared : undefined;

  return {
    parseText(text: string): ParseResult {
      if (format !== undefined && isRejected(format)) return format;
      if (format !== undefined) return textFrameEvent(text, 'FreeSWITCH');
      const metadata = metadataOf(text);
      const inMetadata = formatInMetadata(metadata);
      format = isRejected(inMetadata) ? inMetadata : agreedFormat(declared as DeclaredFormat, inMetadata);
      if (isRejected(format)) return format;
      return binaryStart(format, metadata);
    },
    parseBinary(data: Uint8Array): ParseOutput {
      if (format !== undefined && isRejected(format)) return format;
      if (format !== undefined) return binaryAudio(format, data);
      // No metadata frame: the first audio starts the stream.
      // Nothing to disagree with: the URL's format, or the defaults.
      const settled = agreedFormat(declared as DeclaredFormat, {}) as BinaryStreamFormat;
      format = settled;
      const start = binaryStart(settled, {});
      const audio = binaryAudio(settled, data);
      return [start, ...(Array.isArray(audio) ? audio : [audio])];
    },
  };
}

/**
 * meta.json: everything known about a recording besides its audio, written beside the files
 * when the recording ends (atomically: a reader never sees half a file).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ErrorCode } from '../errors.js';
import type { MediaFormat, StartEvent, TrackName } from '../events.js';
import type { FileCreations } from './file-creations.js';
import type { TrackStats } from './timeline.js';
import type { WavFormat } from './wav-header.js';

/** How a recording ended. */
/** `crashed`: the process died while recording; start-up recovery repaired the files. */
export type EndReason = 'stop' | 'closed' | 'shutdown' | 'failed' | 'idle' | 'max-duration' | 'crashed';

export interface TrackMeta {
  /** File name in the recording directory, absent when the track was not written to its own file. */
  file?: string;
  /** Audio bytes in the file (after the header). */
  bytes?: number;
  durationMs: number;
  framesReceived: number;
  framesPlaced: number;
  /** Frames dropped whole: duplicates, too late to place, or too far ahead. */
  framesDropped: number;
  /** Frames that partly overlapped audio already placed and were trimmed to the new part. */
  framesTrimmed: number;
  /** Frames left out while recording was paused with behavior skip. */
  framesSkipped: number;
  /** Silence inserted where this track had no audio (gaps, lost frames, padding to the end). */
  gapFilledMs: number;
  /** Where that silence is, on the recording's clock (up to 100 spans; the rest counted in gapsNotListed). */
  gaps?: Array<{ atMs: number; endMs: number }>;
  gapsNotListed?: number;
  /**
   * Timestamp drift absorbed (present when any was): where the track's contiguous audio
   * ends minus where its last frame's timestamp put it, in ms (positive: the provider's
   * clock runs slow against its audio), and the largest such difference during the call.
   * Jitter and drift within the tolerance are absorbed this way instead of cutting audio.
   */
  timestampDriftMs?: number;
  maxTimestampDriftMs?: number;
  /** Frames moved back onto the other track's timing because this track had drifted apart from it. */
  framesRealigned?: number;
}

export interface StereoMeta {
  file: string;
  bytes: number;
  durationMs: number;
}

export interface StreamEventMeta {
  /** Position on the stream's clock (ms since stream start) when the event arrived. */
  atMs: number;
  receivedAt: string;
}

export interface DtmfMeta extends StreamEventMeta {
  digit: string;
  track?: string;
  durationMs?: number;
}

export interface MarkMeta extends StreamEventMeta {
  name: string;
  /** `app`: a mark the application sent with its bot audio (tee); atMs is where it plays. */
  source?: 'app';
}

/** Something the provider reported during the stream (Telnyx `error` events). */
export interface NoticeMeta extends StreamEventMeta {
  message: string;
}

export interface PauseMeta extends StreamEventMeta {
  /** Stream time the recording resumed (or the stream ended). */
  endMs: number;
  /** silence: audio replaced by silence, files keep the call's length; skip: span left out. */
  behavior: 'silence' | 'skip';
}

export interface RecordingMeta {
  version: 1;
  provider: string;
  callSid: string;
  streamSid: string;
  accountSid?: string;
  /** `recording` only in the meta.json written when the stream starts (recovery reads it). */
  status: 'recording' | 'complete' | 'failed' | 'recovered';
  /** Tracks the files hold: those the provider declared in `start`, plus outbound from the tee. */
  tracks: TrackName[];
  /** `mixed`: the provider sent both parties in one channel, recorded as the inbound track. */
  mix?: 'mixed';
  /**
   * Neither the provider's start nor the stream URL named the tracks: both were prepared and
   * `tracks` lists those the provider actually sent.
   */
  tracksInferred?: true;
  /** Where the outbound track came from when not from the provider: `tee` = the bot's audio. */
  outboundSource?: 'tee';
  /** Protocols without timestamps: silence inserted for gaps in arrival (ms). */
  arrivalGapFilledMs?: number;
  /** What came over the wire; absent when the start was refused for its format. */
  mediaFormat?: MediaFormat & { byteOrder?: 'be' | 'le' };
  /** What the files hold. */
  fileFormat: { format: WavFormat; sampleRate: number };
  customParameters: Record<string, string>;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  inbound?: TrackMeta;
  outbound?: TrackMeta;
  stereo?: StereoMeta;
  dtmf: DtmfMeta[];
  marks: MarkMeta[];
  /** Spans where recording was paused (e.g. while a card number was read out). */
  pauses: PauseMeta[];
  notices?: NoticeMeta[];
  /** Rejected or dropped frames by error code. */
  rejections: Partial<Record<ErrorCode, number>>;
  /** Absent while recording. */
  endReason?: EndReason;
  /** WebSocket close code and reason when the socket closed (or was closed). */
  closeCode?: number;
  closeReason?: string;
  /** Why the recording failed, when status is failed. */
  error?: { code: ErrorCode; message: string };
  /**
   * Every audio file of the recording with its size and SHA-256, written by the archive step
   * (archive/) once its archives are verified; a WAV removed for them is not listed.
   */
  files?: Array<{ track: 'inbound' | 'outbound' | 'stereo'; format: 'wav' | 'flac' | 'opus' | 'mp3'; file: string; bytes: number; sha256: string }>;
}

export const META_FILE = 'meta.json';

function metaText(meta: RecordingMeta): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}

/** meta.json's final text written ahead to a temporary file of its own (see stageMeta). */
export interface StagedMeta {
  readonly text: string;
  readonly temp: string;
  /** False if the write failed (the usual write follows then). */
  readonly written: Promise<boolean>;
}

/**
 * Writes what meta.json will most likely say to a temporary file now, so that writeMeta()
 * with the same text is one rename. An ending call's files close meanwhile: its final
 * meta.json then costs one trip through the file pool after they closed instead of four
 * (open, write, close, rename), which is most of the finalize latency when hundreds of
 * calls end together. The rename stays the commit point, after the files are closed.
 */
export function stageMeta(dir: string, meta: RecordingMeta): StagedMeta {
  const text = metaText(meta);
  const temp = `${path.join(dir, META_FILE)}.${process.pid}.final.tmp`;
  const written = fs.writeFile(temp, text, { mode: 0o644 }).then(
    () => true,
    () => fs.rm(temp, { force: true }).then(() => false, () => false),
  );
  return { text, temp, written };
}

/**
 * Replaces meta.json atomically (a temp file renamed over it). The temp file is a new inode:
 * with `creations`, it is made when a creation slot is free (see FileCreations).
 */
export async function writeMeta(dir: string, meta: RecordingMeta, creations?: FileCreations, staged?: StagedMeta): Promise<void> {
  const target = path.join(dir, META_FILE);
  const text = metaText(meta);
  // Written ahead with this very text: only the rename is left.
  if (staged && staged.text === text && (await staged.written)) {
    try {
      await fs.rename(staged.temp, target);
      return;
    } catch {
      // Gone or not renamable: written again below, the usual way.
    }
  }
  // Outdated (a file failed as it closed, say): not left beside the recording.
  if (staged && (await staged.written)) await fs.rm(staged.temp, { force: true }).catch(() => undefined);
  const temp = `${target}.${process.pid}.tmp`;
  const done = await creations?.slot();
  try {
    await fs.writeFile(temp, text, { mode: 0o644 });
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    // A full disk has no room for a second copy; the existing meta.json's own space is
    // enough for its final content, or at least for the outcome without the details.
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' || !(await rewriteInPlace(target, meta))) throw err;
  } finally {
    done?.();
  }
}

/**
 * Overwrites meta.json in the space it already has: compact, and if that does not fit, the
 * ids and outcome alone. True if one of them was written.
 */
async function rewriteInPlace(target: string, meta: RecordingMeta): Promise<boolean> {
  const { version, provider, callSid, streamSid, status, startedAt, endedAt, durationMs, endReason, error, fileFormat, mediaFormat, tracks } = meta;
  const essentials = { version, provider, callSid, streamSid, status, tracks, mediaFormat, fileFormat, startedAt, endedAt, durationMs, endReason, error, truncated: true };
  for (const text of [JSON.stringify(meta), JSON.stringify(essentials)]) {
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(target, 'r+');
      const { size } = await handle.stat();
      // Spaces keep the file's length, so no block is freed and taken again.
      const bytes = Buffer.from(text.padEnd(Math.max(size, text.length), ' '), 'utf8');
      await handle.write(bytes, 0, bytes.length, 0);
      return true;
    } catch {
      // too large for the space it has: try the shorter form
    } finally {
      await handle?.close();
    }
  }
  return false;
}

// --- meta.json built from what a recording knows at one moment (buildMeta, below): a pure
// function over a snapshot, so the first meta.json (status recording) and the last are
// built the same way.

/** A track's frame counts. */
export interface TrackCounters {
  received: number;
  /** Frames left out by a skip-pause (by request, so not counted as dropped). */
  skipped: number;
  placed: number;
  dropped: number;
  trimmed: number;
}

export interface TrackSnapshot {
  readonly counters: TrackCounters;
  readonly stats: TrackStats | undefined;
  /** The track's own file, when it has one. */
  readonly file?: { readonly name: string; readonly bytes: number } | undefined;
}

export interface MetaSnapshot {
  readonly provider: string;
  readonly start: StartEvent;
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly reason: EndReason;
  readonly failure: { code: ErrorCode; message: string } | undefined;
  readonly closeInfo: { code?: number; reason?: string };
  readonly tracks: readonly TrackName[];
  readonly lengthSamples: number;
  readonly samplesPerMs: number;
  /** Per declared track (0 inbound, 1 outbound); undefined when not declared. */
  readonly trackFacts: readonly [TrackSnapshot | undefined, TrackSnapshot | undefined];
  readonly stereo: { readonly name: string; readonly bytes: number } | undefined;
  readonly fileFormat: WavFormat;
  readonly sampleRate: number;
  readonly byteOrder: 'be' | 'le' | undefined;
  readonly tee: boolean;
  /** Protocols without timestamps: samples of silence the arrival clock inserted. */
  readonly arrivalInsertedSamples: number | undefined;
  readonly dtmf: DtmfMeta[];
  readonly marks: MarkMeta[];
  readonly pauses: PauseMeta[];
  readonly notices: NoticeMeta[];
  readonly rejections: Partial<Record<ErrorCode, number>>;
}

export function buildMeta(s: MetaSnapshot): RecordingMeta {
  const ms = (samples: number) => Math.round(samples / s.samplesPerMs);
  const length = s.lengthSamples;
  const trackMeta = ({ counters, stats, file }: TrackSnapshot): TrackMeta => ({
    ...(file ? { file: file.name, bytes: file.bytes } : {}),
    durationMs: ms(length),
    framesReceived: counters.received,
    framesPlaced: counters.placed,
    framesDropped: counters.dropped,
    framesTrimmed: counters.trimmed,
    framesSkipped: counters.skipped,
    gapFilledMs: ms(length - (stats?.placedSamples ?? 0)),
    ...(stats && stats.gaps.spans.length > 0 ? { gaps: stats.gaps.spans.map(([from, to]) => ({ atMs: ms(from), endMs: ms(to) })) } : {}),
    ...(stats && stats.gaps.notListed > 0 ? { gapsNotListed: stats.gaps.notListed } : {}),
    ...(stats && stats.maxDriftSamples > 0
      ? { timestampDriftMs: tenthsOfMs(stats.driftSamples, s.samplesPerMs), maxTimestampDriftMs: tenthsOfMs(stats.maxDriftSamples, s.samplesPerMs) }
      : {}),
    ...(stats && stats.realignedFrames > 0 ? { framesRealigned: stats.realignedFrames } : {}),
  });
  const { start, failure, closeInfo } = s;
  const [inbound, outbound] = s.trackFacts;
  return {
    version: 1,
    provider: s.provider,
    callSid: start.callId,
    streamSid: start.streamId,
    ...(start.accountId ? { accountSid: start.accountId } : {}),
    status: failure ? 'failed' : 'complete',
    tracks: [...s.tracks],
    ...(start.mix ? { mix: start.mix } : {}),
    ...(start.tracksInferred ? { tracksInferred: true as const } : {}),
    ...(s.tee ? { outboundSource: 'tee' as const } : {}),
    ...(s.arrivalInsertedSamples !== undefined ? { arrivalGapFilledMs: ms(s.arrivalInsertedSamples) } : {}),
    mediaFormat: { ...start.format, ...(s.byteOrder ? { byteOrder: s.byteOrder } : {}) },
    fileFormat: { format: s.fileFormat, sampleRate: s.sampleRate },
    customParameters: { ...start.params },
    startedAt: s.startedAt.toISOString(),
    endedAt: s.endedAt.toISOString(),
    durationMs: ms(length),
    ...(inbound ? { inbound: trackMeta(inbound) } : {}),
    ...(outbound ? { outbound: trackMeta(outbound) } : {}),
    ...(s.stereo ? { stereo: { file: s.stereo.name, bytes: s.stereo.bytes, durationMs: ms(length) } } : {}),
    dtmf: s.dtmf,
    marks: s.marks,
    pauses: s.pauses,
    ...(s.notices.length > 0 ? { notices: s.notices } : {}),
    rejections: { ...s.rejections },
    endReason: failure ? 'failed' : s.reason,
    ...(closeInfo.code !== undefined ? { closeCode: closeInfo.code } : {}),
    ...(closeInfo.reason ? { closeReason: closeInfo.reason } : {}),
    ...(failure ? { error: failure } : {}),
  };
}

/** Samples as ms to a tenth: drift is a few ms, where whole ms would hide it. */
function tenthsOfMs(samples: number, samplesPerMs: number): number {
  return Math.round((samples / samplesPerMs) * 10) / 10;
}

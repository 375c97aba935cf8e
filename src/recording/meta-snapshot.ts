/**
 * meta.json built from what a recording knows at one moment: a pure function over a
 * snapshot, so the first meta.json (status recording) and the last are built the same way.
 */
import type { ErrorCode } from '../errors.js';
import type { StartEvent, TrackName } from '../events.js';
import type { DtmfMeta, EndReason, MarkMeta, NoticeMeta, PauseMeta, RecordingMeta, TrackMeta } from './meta.js';
import type { TrackStats } from './timeline.js';
import type { WavFormat } from './wav-header.js';

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

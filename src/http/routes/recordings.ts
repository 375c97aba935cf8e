/**
 * /api/recordings: list, fetch, stream audio (with HTTP Range), delete. The JSON names are a
 * contract other tools are written against; see the README.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import rangeParser from 'range-parser';
import { Readable } from 'node:stream';
import type { Catalog, RecordingFileSource } from '../../catalog/catalog.js';
import { PEAKS_MAX_BUCKETS, PRESIGNED_URL_TTL_S, RECORDING_MAX_PARAM_FILTERS } from '../../limits.js';
import { InvalidCursorError, type RecordingFilter } from '../../catalog/recordings.js';
import { recordingJson } from '../../catalog/recording-json.js';
import { RECORDING_STATUSES, type RecordingStatus } from '../../catalog/schema.js';
import { CalltapeError } from '../../errors.js';
import { ADAPTERS } from '../../providers/registry.js';
import { PeaksStore } from '../../catalog/peaks-store.js';
import { downsample, peaksJson } from '../../recording/peaks.js';
import { parseSearchQuery, transcriptMatches } from '../../catalog/transcript-search.js';
import { encryptedError, findRecording, notHere } from './recording-lookup.js';
import { actorLabelOf } from '../access.js';
import { ReadAuditor } from '../audit.js';
import { AUDIO_CONTENT_TYPES, AUDIO_EXTENSIONS, isAudioExtension } from '../../archive/formats.js';
import { audioFilesOf } from '../../catalog/audio-files.js';
import { SPOOLED_FILE } from '../../storage/recording-keys.js';
import { contentTypeOf } from '../../storage/content-types.js';

const STATUSES: readonly RecordingStatus[] = RECORDING_STATUSES;
const PROVIDERS: readonly string[] = ADAPTERS.map((adapter) => adapter.name);
const TRACK_PARAM = /^(inbound|outbound|stereo)(?:\.([a-z0-9]{1,8}))?$/;

function timeParam(name: string, value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms)) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${name} must be an ISO 8601 time or epoch milliseconds`);
  return ms;
}

function intParam(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${name} must be an integer from ${min} to ${max}`);
  return n;
}


export function parseListQuery(query: Record<string, unknown>): RecordingFilter {
  const filter: RecordingFilter = { limit: 50 };
  // No prototype: a parameter named __proto__ (or constructor) is a key like any other.
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  let paramCount = 0;
  for (const [key, raw] of Object.entries(query)) {
    if (typeof raw !== 'string') throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${key.slice(0, 64)} given more than once`);
    if (key.startsWith('param.') && key.length > 6) {
      if (++paramCount > RECORDING_MAX_PARAM_FILTERS) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `at most ${RECORDING_MAX_PARAM_FILTERS} param.* filters`);
      params[key.slice(6)] = raw;
      continue;
    }
    switch (key) {
      case 'callSid':
      case 'streamSid':
        filter[key] = raw;
        break;
      case 'provider':
        // Checked like status: a misspelt provider is an error, not an empty list.
        if (!PROVIDERS.includes(raw)) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `provider must be one of ${PROVIDERS.join(', ')}`);
        filter.provider = raw;
        break;
      case 'status':
        if (!STATUSES.includes(raw as RecordingStatus)) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `status must be one of ${STATUSES.join(', ')}`);
        filter.status = raw as RecordingStatus;
        break;
      case 'from':
        filter.fromMs = timeParam(key, raw);
        break;
      case 'to':
        filter.toMs = timeParam(key, raw);
        break;
      case 'minDurationMs':
        filter.minDurationMs = intParam(key, raw, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'limit':
        filter.limit = intParam(key, raw, 1, 500);
        break;
      case 'cursor':
        filter.cursor = raw;
        break;
      case 'minTalkRatio':
      case 'maxTalkRatio': {
        const ratio = Number(raw);
        if (raw.trim() === '' || !Number.isFinite(ratio) || ratio < 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `${key} must be a number of 0 or more (the agent's talk time over the caller's)`);
        (filter.analytics ??= {})[key] = ratio;
        break;
      }
      case 'minInterruptions':
      case 'minSilenceMs':
      case 'maxSilenceMs':
      case 'minOverlapMs':
        (filter.analytics ??= {})[key] = intParam(key, raw, 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'q':
        // Words (stemmed) and "quoted phrases" the transcript must hold: transcript-search.ts.
        filter.terms = parseSearchQuery(raw);
        break;
      default:
        throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown query parameter ${JSON.stringify(key)}`);
    }
  }
  if (paramCount > 0) filter.params = params;
  return filter;
}

export const recordingRoutes: FastifyPluginAsync<{ readonly catalog: Catalog }> = async (app, { catalog }) => {
  const find = (id: string) => findRecording(catalog, id);
  const reads = new ReadAuditor(catalog.audit);

  app.get('/api/recordings', { config: { access: 'api' } }, async (request) => {
    const filter = parseListQuery(request.query as Record<string, unknown>);
    try {
      const page = await catalog.repo.list(filter);
      const ids = page.items.map((r) => r.id);
      const jobs = await catalog.jobs.forRecordings(ids);
      const matches = filter.terms ? await transcriptMatches(catalog.db.db, catalog.db.dialect, ids, filter.terms) : undefined;
      const figures = await catalog.analytics.forRecordings(ids);
      return {
        items: page.items.map((r) => ({ ...recordingJson(r, '', jobs.get(r.id) ?? [], figures.get(r.id)), ...(matches ? { matches: matches.get(r.id) ?? [] } : {}) })),
        nextCursor: page.nextCursor,
      };
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', 'invalid cursor');
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/api/recordings/:id', { config: { access: 'api' } }, async (request) => {
    const recording = await find(request.params.id);
    const jobs = (await catalog.jobs.forRecording(recording.id)).map((job) => {
      const progress = job.state === 'running' ? catalog.pipeline?.progressOf(recording.id, job.kind) : undefined;
      return progress ? { ...job, progress } : job;
    });
    const figures = (await catalog.analytics.forRecordings([recording.id])).get(recording.id);
    return { ...recordingJson(recording, '', jobs, figures), events: await catalog.repo.events(recording.id) };
  });

  // A track in any format it is kept in (`inbound.opus`); without an extension, the WAV, or
  // the best archive once the WAV was removed for its archives.
  app.get<{ Params: { id: string; track: string } }>('/api/recordings/:id/audio/:track', { config: { access: 'api' } }, async (request, reply) => {
    const match = TRACK_PARAM.exec(request.params.track);
    if (!match) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'track must be inbound, outbound or stereo');
    const [, name, extension] = match as unknown as [string, 'inbound' | 'outbound' | 'stereo', string | undefined];
    if (extension !== undefined && !isAudioExtension(extension)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', `the format must be one of ${AUDIO_EXTENSIONS.join(', ')}`);
    const recording = await find(request.params.id);
    if (recording.encryption) throw encryptedError(recording, `the ${name} track`, `${name}.${extension ?? 'wav'}`);
    const track = recording.files.find((f) => f.name === name);
    // While it records, only its growing WAVs exist.
    const available = track ? audioFilesOf(track) : recording.status === 'recording' ? [{ format: 'wav' as const, file: `${name}.wav` }] : [];
    if (available.length === 0) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', `recording has no ${name} track`);
    const chosen = extension === undefined ? available[0]! : available.find((a) => a.format === extension);
    if (!chosen) throw new CalltapeError('CALLTAPE_ERR_NO_SUCH_FORMAT', `the ${name} track is kept as ${available.map((a) => a.format).join(', ')}, not ${extension}`);
    // ?redirect=1: a short-lived presigned URL of the object, for clients that fetch it themselves.
    if ((request.query as { redirect?: unknown }).redirect === '1') {
      const url = await catalog.presignedUrl(recording, chosen.file, PRESIGNED_URL_TTL_S);
      if (url) {
        await reads.read(request, 'audio.read', recording.id, `${chosen.file} (presigned URL)`);
        return reply.header('Cache-Control', 'no-store').redirect(url, 302);
      }
    }
    const source = await catalog.openFile(recording, chosen.file);
    if (!source) throw notHere(catalog, recording, `${name} audio`);
    await reads.read(request, 'audio.read', recording.id, chosen.file);
    return sendFileRange(reply, source, request.headers.range, AUDIO_CONTENT_TYPES[chosen.format]);
  });

  // Any file of the recording by its exact name (the manifest and its signature, an output),
  // as it is on disk or in the bucket: what `calltape verify <id>` checks.
  app.get<{ Params: { id: string; name: string } }>('/api/recordings/:id/files/:name', { config: { access: 'api' } }, async (request, reply) => {
    const { name } = request.params;
    if (!SPOOLED_FILE.test(name)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no such file of a recording');
    const recording = await find(request.params.id);
    if (recording.status === 'recording') throw new CalltapeError('CALLTAPE_ERR_RECORDING_IN_PROGRESS', 'its files are final once the call ends');
    const source = await catalog.openFile(recording, name);
    if (!source) throw notHere(catalog, recording, name);
    await reads.read(request, 'file.read', recording.id, name);
    return sendFileRange(reply, source, request.headers.range, contentTypeOf(name));
  });

  // The recording's own description as written beside its files (pauses, gaps, rejections).
  app.get<{ Params: { id: string } }>('/api/recordings/:id/meta.json', { config: { access: 'api' } }, async (request, reply) => {
    const recording = await find(request.params.id);
    const source = await catalog.openFile(recording, 'meta.json');
    if (!source) throw notHere(catalog, recording, 'meta.json');
    await reads.read(request, 'file.read', recording.id, 'meta.json');
    return reply.type('application/json; charset=utf-8').header('Content-Length', source.size).send(await source.open());
  });

  // Waveform peaks: drawn without fetching the audio (recording/peaks.ts).
  const peaks = new PeaksStore(catalog);
  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/recordings/:id/peaks', { config: { access: 'api' } }, async (request, reply) => {
    const { buckets: given, ...rest } = request.query;
    if (Object.keys(rest).length > 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown query parameter ${JSON.stringify(Object.keys(rest)[0]!.slice(0, 64))}`);
    // Digits only: "1e309", "0x10" or " 5" are not bucket counts.
    if (given !== undefined && (typeof given !== 'string' || !/^[1-9]\d{0,6}$/.test(given) || Number(given) > PEAKS_MAX_BUCKETS)) {
      throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `buckets must be an integer from 1 to ${PEAKS_MAX_BUCKETS}`);
    }
    const recording = await find(request.params.id);
    if (recording.status === 'recording') throw new CalltapeError('CALLTAPE_ERR_RECORDING_IN_PROGRESS', 'peaks are computed once the recording has finished');
    let all;
    try {
      all = await peaks.get(recording);
    } catch (err) {
      if (err instanceof CalltapeError && err.code === 'CALLTAPE_ERR_PEAKS_BUSY') {
        reply.header('Retry-After', 1);
        throw err;
      }
      const elsewhere = notHere(catalog, recording, 'the audio');
      throw elsewhere.code === 'CALLTAPE_ERR_ON_ANOTHER_NODE' ? elsewhere : new CalltapeError('CALLTAPE_ERR_FILES_MISSING', 'the audio of this recording is not on disk');
    }
    return peaksJson(given === undefined ? all : downsample(all, Number(given)));
  });

  // Deleting leaves a tombstone: who (as the API let the client in), when, and why (`?reason=`).
  app.delete<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/recordings/:id', { config: { access: 'api' } }, async (request, reply) => {
    const { reason, ...rest } = request.query;
    if (Object.keys(rest).length > 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown query parameter ${JSON.stringify(Object.keys(rest)[0]!.slice(0, 64))}`);
    if (reason !== undefined && (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500)) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', 'reason must be 1 to 500 characters');
    const recording = await find(request.params.id);
    if (recording.status === 'recording') throw new CalltapeError('CALLTAPE_ERR_RECORDING_IN_PROGRESS', 'stop the call first');
    await catalog.delete(recording, { by: actorLabelOf(request), reason: reason?.trim() ?? null, address: request.ip });
    return reply.code(204).send();
  });

  // The tombstones of deleted recordings, newest first (`?before=` the last one's deletedAt, to page).
  app.get<{ Querystring: Record<string, unknown> }>('/api/tombstones', { config: { access: 'api' } }, async (request) => {
    const { limit: givenLimit, before: givenBefore, ...rest } = request.query;
    if (Object.keys(rest).length > 0) throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', `unknown query parameter ${JSON.stringify(Object.keys(rest)[0]!.slice(0, 64))}`);
    const limit = givenLimit === undefined ? 50 : intParam('limit', String(givenLimit), 1, 500);
    const before = givenBefore === undefined ? undefined : timeParam('before', String(givenBefore));
    return { items: await catalog.tombstones.list(limit, before) };
  });
};

/**
 * Serves a file whole (200) or one byte range of it (206), per RFC 9110 section 14, from the
 * data dir or the object store (a ranged GET there: streamed, never buffered whole).
 */
export async function sendFileRange(reply: FastifyReply, source: RecordingFileSource, rangeHeader: string | undefined, contentType: string): Promise<FastifyReply> {
  const { size } = source;
  // HEAD is answered from the size alone: nothing is opened (no GET to the bucket). An empty
  // stream keeps the Content-Length set here (fastify sets 0 for an empty payload).
  const headOnly = reply.request.method === 'HEAD';
  reply.header('Accept-Ranges', 'bytes').type(contentType);
  if (rangeHeader) {
    const ranges = rangeParser(size, rangeHeader, { combine: true });
    if (ranges === -1) {
      reply.header('Content-Range', `bytes */${size}`);
      throw new CalltapeError('CALLTAPE_ERR_RANGE_NOT_SATISFIABLE', rangeHeader.slice(0, 64));
    }
    // A malformed header, another unit, or several ranges: answer with the whole file.
    if (ranges !== -2 && ranges.type === 'bytes' && ranges.length === 1) {
      const { start, end } = ranges[0]!;
      reply.code(206).header('Content-Range', `bytes ${start}-${end}/${size}`).header('Content-Length', end - start + 1);
      return reply.send(headOnly ? Readable.from([]) : await source.open({ start, end }));
    }
  }
  reply.header('Content-Length', size);
  return reply.send(size === 0 ? '' : headOnly ? Readable.from([]) : await source.open());
}

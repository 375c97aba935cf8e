/**
 * Where recordings live on local disk:
 * <dataDir>/recordings/YYYY/MM/DD/<streamId>/{inbound,outbound,stereo}.wav + meta.json,
 * dated by the stream's UTC start.
 */
import path from 'node:path';
import { CalltapeError } from '../errors.js';

/**
 * Parsers already check ids against each provider's format; this second check guards the
 * one place an id becomes a path, whatever parser produced it.
 */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function recordingDir(dataDir: string, startedAt: Date, streamId: string): string {
  if (!SAFE_SEGMENT.test(streamId)) throw new CalltapeError('CALLTAPE_ERR_INVALID_ID', 'stream id cannot name a directory');
  return path.join(recordingsRoot(dataDir), utcDayPath(startedAt), streamId);
}

/** YYYY/MM/DD of `date` in UTC: the day directory a recording started then lives under. */
export function utcDayPath(date: Date): string {
  const yyyy = String(date.getUTCFullYear()).padStart(4, '0');
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  return path.join(yyyy, mm, dd);
}

export function recordingsRoot(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'recordings');
}

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
  const yyyy = String(startedAt.getUTCFullYear()).padStart(4, '0');
  const mm = String(startedAt.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(startedAt.getUTCDate()).padStart(2, '0');
  return path.join(path.resolve(dataDir), 'recordings', yyyy, mm, dd, streamId);
}

export function recordingsRoot(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'recordings');
}

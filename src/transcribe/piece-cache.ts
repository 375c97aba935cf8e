/**
 * What the server already said about each piece of a recording, kept beside its files while
 * its transcript is being made (transcript.pieces.json), so an attempt that failed on one
 * piece does not send the others again when it is retried: a hosted API bills every request.
 * Written whole after each piece; removed once the transcript is written.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic-file.js';
import type { PieceSegment } from './normalize.js';

export const PIECE_CACHE_FILE = 'transcript.pieces.json';

export interface PieceCache {
  get(key: string): PieceSegment[] | undefined;
  set(key: string, segments: PieceSegment[]): Promise<void>;
}

/** The key of a piece: its track, its span and the model that heard it. */
export function pieceKey(track: string, startMs: number, endMs: number, model: string): string {
  return `${track}:${startMs}-${endMs}:${model}`;
}

export class FilePieceCache implements PieceCache {
  private constructor(
    private readonly file: string,
    private readonly entries: Record<string, PieceSegment[]>,
  ) {}

  static async open(dir: string): Promise<FilePieceCache> {
    const file = path.join(dir, PIECE_CACHE_FILE);
    let entries: Record<string, PieceSegment[]> = {};
    try {
      const parsed = JSON.parse(await fsp.readFile(file, 'utf8')) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) entries = parsed as Record<string, PieceSegment[]>;
    } catch {
      // none yet, or unreadable: every piece is sent
    }
    return new FilePieceCache(file, entries);
  }

  get(key: string): PieceSegment[] | undefined {
    const found = this.entries[key];
    return Array.isArray(found) ? found : undefined;
  }

  /** Writes one after another (both tracks' pieces finish at any moment). */
  private writing: Promise<void> = Promise.resolve();

  set(key: string, segments: PieceSegment[]): Promise<void> {
    this.entries[key] = segments;
    const write = this.writing.then(() => writeFileAtomic(this.file, JSON.stringify(this.entries)));
    this.writing = write.catch(() => undefined);
    return write;
  }

  async remove(): Promise<void> {
    await fsp.rm(this.file, { force: true });
  }
}

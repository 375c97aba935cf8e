/**
 * Peaks of finished recordings (recording/peaks.ts), computed on the first request for them,
 * kept beside the files as peaks.json and read from there after. Two requests for the same
 * recording at once share one computation.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PEAKS_FILE, writePeaks, type Peaks, type PeakSources } from '../recording/peaks.js';
import type { Catalog } from './catalog.js';
import type { Recording } from './recordings.js';

export class PeaksStore {
  private readonly computing = new Map<string, Promise<Peaks>>();

  constructor(private readonly catalog: Catalog) {}

  async get(recording: Recording): Promise<Peaks> {
    const file = this.catalog.filePath(recording, PEAKS_FILE);
    try {
      return JSON.parse(await fsp.readFile(file, 'utf8')) as Peaks;
    } catch {
      // not computed yet (or unreadable): compute it now
    }
    // Uploaded: its peaks went up with it (storage/uploader.ts).
    if (recording.storage === 's3') {
      const source = await this.catalog.openFile(recording, PEAKS_FILE);
      if (source) return JSON.parse((await text(await source.open())) || 'null') as Peaks;
    }
    let work = this.computing.get(recording.id);
    if (!work) {
      work = writePeaks(path.dirname(file), sourcesOf(recording)).finally(() => this.computing.delete(recording.id));
      this.computing.set(recording.id, work);
    }
    return work;
  }
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Each track's own file, else its side of the stereo file. */
function sourcesOf(recording: Recording): PeakSources {
  const file = (name: string) => recording.files.find((f) => f.name === name)?.file;
  const stereo = file('stereo');
  const source = (name: 'inbound' | 'outbound', channel: number) => {
    const own = file(name);
    if (own) return { file: own, channel: 0 };
    return stereo ? { file: stereo, channel } : undefined;
  };
  return { inbound: source('inbound', 0), outbound: source('outbound', 1) };
}

/**
 * Peaks of finished recordings (recording/peaks.ts), computed after the call by the pipeline
 * (pipeline/steps/peaks.ts) or, for a recording it has not reached yet, on the first request,
 * kept beside the files as peaks.bin and read from there after (from the bucket once
 * uploaded; a recording made before peaks.bin has its peaks.json read once, then peaks.bin).
 * Reading or computing is bounded: two at once, a few more waiting, the rest refused 503
 * with Retry-After (CALLTAPE_ERR_PEAKS_BUSY), so requests for many long recordings at once
 * cannot take the node's memory or its event loop. Two requests for the same recording at
 * once share one load.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CalltapeError } from '../errors.js';
import { PEAKS_LOADS_AT_ONCE, PEAKS_LOADS_WAITING } from '../limits.js';
import { decodePeaks, encodePeaks, LEGACY_PEAKS_FILE, PEAKS_FILE, writePeaks, type Peaks, type PeakSources } from '../recording/peaks.js';
import type { Catalog } from './catalog.js';
import type { Recording } from './recordings.js';

export class PeaksStore {
  private readonly loading = new Map<string, Promise<Peaks>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly catalog: Catalog) {}

  async get(recording: Recording): Promise<Peaks> {
    let work = this.loading.get(recording.id);
    if (!work) {
      work = this.bounded(() => this.load(recording)).finally(() => this.loading.delete(recording.id));
      this.loading.set(recording.id, work);
    }
    return work;
  }

  private async bounded<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= PEAKS_LOADS_AT_ONCE) {
      if (this.waiting.length >= PEAKS_LOADS_WAITING) throw new CalltapeError('CALLTAPE_ERR_PEAKS_BUSY', `${PEAKS_LOADS_AT_ONCE} peaks loads running and ${PEAKS_LOADS_WAITING} waiting`);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async load(recording: Recording): Promise<Peaks> {
    const file = this.catalog.filePath(recording, PEAKS_FILE);
    const stored = decodePeaks(await fsp.readFile(file).catch(() => Buffer.alloc(0)));
    if (stored) return stored;
    // Uploaded: its peaks went up with it (storage/uploader.ts).
    if (recording.storage === 's3') {
      const source = await this.catalog.openFile(recording, PEAKS_FILE);
      const fromStore = source ? decodePeaks(await bytes(await source.open())) : undefined;
      if (fromStore) return fromStore;
      const legacy = await this.catalog.openFile(recording, LEGACY_PEAKS_FILE);
      if (legacy) return JSON.parse((await bytes(await legacy.open())).toString('utf8')) as Peaks;
    }
    const legacy = await fsp.readFile(this.catalog.filePath(recording, LEGACY_PEAKS_FILE), 'utf8').catch(() => undefined);
    if (legacy !== undefined) {
      const peaks = JSON.parse(legacy) as Peaks;
      await fsp.writeFile(file, encodePeaks(peaks)).catch(() => undefined);
      return peaks;
    }
    return writePeaks(path.dirname(file), peakSourcesOf(recording));
  }
}

async function bytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Each track's own file, else its side of the stereo file. */
export function peakSourcesOf(recording: Recording): PeakSources {
  const file = (name: string) => recording.files.find((f) => f.name === name)?.file;
  const stereo = file('stereo');
  const source = (name: 'inbound' | 'outbound', channel: number) => {
    const own = file(name);
    if (own) return { file: own, channel: 0 };
    return stereo ? { file: stereo, channel } : undefined;
  };
  return { inbound: source('inbound', 0), outbound: source('outbound', 1) };
}

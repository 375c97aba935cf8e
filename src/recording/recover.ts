/**
 * Start-up recovery after a crash (kill -9, power loss): a recording whose meta.json still
 * says `recording` had its process die under it. Its WAV files hold everything written up to
 * the last batch, but their header sizes may be stale and the last write may be cut off.
 * Recovery recomputes the sizes from the file lengths, truncates every file of the recording
 * to the same whole number of samples (so the tracks stay aligned), and rewrites meta.json
 * with status `recovered`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { utcDayPath } from '../storage/local.js';
import { META_FILE, writeMeta, type RecordingMeta } from './meta.js';
import { buildWavHeader, bytesPerSample, headerSize, parseWavHeader, type ParsedWavHeader } from './wav-header.js';

const DAY_MS = 24 * 3600 * 1000;

export async function readMetaFile(dir: string): Promise<RecordingMeta | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, META_FILE), 'utf8')) as RecordingMeta;
  } catch {
    return undefined;
  }
}

/**
 * Every recording directory with a readable meta.json on the days a recording still open
 * now could have started on (a crash, or a catalog outage, can only have touched those).
 */
export async function findRecordings(recordingsRoot: string, lookBackMs: number, now = Date.now()): Promise<Array<{ dir: string; meta: RecordingMeta }>> {
  const found: Array<{ dir: string; meta: RecordingMeta }> = [];
  const days = Math.ceil(lookBackMs / DAY_MS) + 1;
  for (let d = 0; d <= days; d++) {
    const date = new Date(now - d * DAY_MS);
    const dayDir = path.join(recordingsRoot, utcDayPath(date));
    let entries: string[];
    try {
      entries = await fs.readdir(dayDir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const dir = path.join(dayDir, entry);
      const meta = await readMetaFile(dir);
      if (meta) found.push({ dir, meta });
    }
  }
  return found;
}

/** Directories of recordings left in status `recording` (see findRecordings). */
export async function findUnfinished(recordingsRoot: string, lookBackMs: number, now = Date.now()): Promise<string[]> {
  return (await findRecordings(recordingsRoot, lookBackMs, now)).filter((r) => r.meta.status === 'recording').map((r) => r.dir);
}

interface FileState {
  name: 'inbound' | 'outbound' | 'stereo';
  file: string;
  header: ParsedWavHeader;
  /** Whole samples (per channel) on disk. */
  samples: number;
}

async function inspect(dir: string, name: FileState['name']): Promise<FileState | undefined> {
  const file = `${name}.wav`;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path.join(dir, file), 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, 64, 0);
    const header = parseWavHeader(head.subarray(0, bytesRead));
    if (!header) return undefined;
    const size = (await handle.stat()).size;
    const frameBytes = bytesPerSample(header.format) * header.channels;
    return { name, file, header, samples: Math.floor(Math.max(0, size - header.dataOffset) / frameBytes) };
  } finally {
    await handle.close();
  }
}

/**
 * Repairs one recording directory; returns its final meta, or undefined if it needs none.
 * `failed`: the catalog already knows the recording failed (its disk filled, say) and its
 * meta.json could not say so; the files are repaired the same way and it stays failed.
 */
export async function recoverRecording(dir: string, now = new Date(), failed?: { message: string }): Promise<RecordingMeta | undefined> {
  const meta = await readMetaFile(dir);
  if (!meta || meta.status !== 'recording') return undefined;
  const files = (await Promise.all((['inbound', 'outbound', 'stereo'] as const).map((name) => inspect(dir, name)))).filter(
    (f): f is FileState => f !== undefined,
  );
  const samples = files.length > 0 ? Math.min(...files.map((f) => f.samples)) : 0;
  for (const f of files) {
    const dataBytes = samples * bytesPerSample(f.header.format) * f.header.channels;
    const handle = await fs.open(path.join(dir, f.file), 'r+');
    try {
      await handle.truncate(headerSize(f.header.format) + dataBytes);
      await handle.write(buildWavHeader(f.header, dataBytes), 0, headerSize(f.header.format), 0);
    } finally {
      await handle.close();
    }
  }
  const rate = meta.fileFormat.sampleRate;
  const durationMs = Math.round((samples * 1000) / rate);
  const byName = new Map(files.map((f) => [f.name, f]));
  const fileBytes = (name: FileState['name']) => {
    const f = byName.get(name);
    return f ? samples * bytesPerSample(f.header.format) * f.header.channels : undefined;
  };
  const recovered: RecordingMeta = {
    ...meta,
    status: failed ? 'failed' : 'recovered',
    endReason: failed ? 'failed' : 'crashed',
    ...(failed ? { error: { code: 'CALLTAPE_ERR_WRITE_FAILED', message: failed.message } } : {}),
    endedAt: now.toISOString(),
    durationMs,
  };
  for (const name of ['inbound', 'outbound'] as const) {
    const track = meta[name];
    if (!track) continue;
    const bytes = fileBytes(name);
    recovered[name] = { ...track, durationMs, ...(bytes !== undefined ? { file: `${name}.wav`, bytes } : {}) };
  }
  const stereoBytes = fileBytes('stereo');
  if (stereoBytes !== undefined) recovered.stereo = { file: 'stereo.wav', bytes: stereoBytes, durationMs };
  await writeMeta(dir, recovered);
  return recovered;
}

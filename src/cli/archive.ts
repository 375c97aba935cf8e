/**
 * `calltape archive <recording id | dir> [--formats flac,opus]`: the archive step by hand, for
 * recordings made before CALLTAPE_ARCHIVE_FORMATS was set (or in other formats).
 *   - an id: the running server queues it (POST /api/recordings/:id/archive) and this follows
 *     its job; the catalog lists the archives, they go to the bucket, and with
 *     CALLTAPE_KEEP_WAV=false the server removes the WAVs once they are verified;
 *   - a recording directory: encoded and verified here, beside the WAVs, with meta.json's file
 *     list brought up to date. The WAVs are kept (no catalog says they may go).
 * Exit 0 when every archive is made, 1 when not, 2 for a bad setting.
 */
import fs from 'node:fs';
import path from 'node:path';
import { archiveWav } from '../archive/archive-file.js';
import { ARCHIVE_FORMATS, isArchiveFormat, type ArchiveFormat } from '../archive/formats.js';
import { filesOf } from '../catalog/recordings.js';
import { ConfigError, loadConfig } from '../config.js';
import { META_FILE, type RecordingMeta } from '../recording/meta.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { finishedMeta, ProgressLine, runOnIdOrDir, runStepById, seconds, type ServerFlags } from './step-job.js';

export interface ArchiveFlags extends ServerFlags {
  formats?: string;
}

function parseFormats(text: string): ArchiveFormat[] {
  const list = text.split(',').map((part) => part.trim().toLowerCase()).filter(Boolean);
  const wrong = list.find((part) => !isArchiveFormat(part));
  if (list.length === 0 || wrong !== undefined) throw new ConfigError(`--formats must be a comma list of ${ARCHIVE_FORMATS.join(', ')}${wrong ? ` (not ${JSON.stringify(wrong.slice(0, 20))})` : ''}`);
  return [...new Set(list as ArchiveFormat[])];
}

const kib = (bytes: number) => (bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`);

export function runArchiveCommand(target: string, flags: ArchiveFlags): Promise<number> {
  const asked = flags.formats === undefined ? undefined : parseFormats(flags.formats);
  return runOnIdOrDir(
    target,
    flags,
    async (dir) => {
      const formats = asked ?? loadConfig({}, process.env, {}).archiveFormats;
      if (formats.length === 0) throw new ConfigError(`name the formats: --formats ${ARCHIVE_FORMATS.join(',')} (or CALLTAPE_ARCHIVE_FORMATS)`);
      const meta = await finishedMeta(dir);
      const wavs = filesOf(meta).filter((f) => fs.existsSync(path.join(dir, f.file)));
      if (wavs.length === 0) throw new Error(`${dir} has no WAV to archive`);
      const progress = new ProgressLine();
      const started = Date.now();
      const total = wavs.length * formats.length;
      let done = 0;
      const lines: string[] = [];
      const list: NonNullable<RecordingMeta['files']> = [];
      for (const wav of wavs) {
        const wavFile = path.join(dir, wav.file);
        let wavDigest: { sha256: string; bytes: number } | undefined;
        for (const format of formats) {
          progress.show(`archiving ${meta.streamSid}: ${wav.file} → ${format} (${done}/${total} done) · ${seconds(Date.now() - started)}`);
          const result = await archiveWav(wavFile, [format]);
          wavDigest = { sha256: result.wavSha256, bytes: result.wavBytes };
          const archive = result.archives[0]!;
          done++;
          list.push({ track: wav.name, format: archive.format, file: archive.file, bytes: archive.bytes, sha256: archive.sha256 });
          lines.push(`${archive.file.padEnd(14)} ${kib(archive.bytes).padStart(10)}  ${((archive.bytes / result.wavBytes) * 100).toFixed(1).padStart(5)}% of ${wav.file}`);
        }
        if (wavDigest) list.push({ track: wav.name, format: 'wav', file: wav.file, bytes: wavDigest.bytes, sha256: wavDigest.sha256 });
      }
      progress.end();
      // Earlier archives in other formats stay listed.
      const others = (meta.files ?? []).filter((f) => f.format !== 'wav' && !formats.includes(f.format as ArchiveFormat) && fs.existsSync(path.join(dir, f.file)));
      await writeFileAtomic(path.join(dir, META_FILE), `${JSON.stringify({ ...meta, files: [...list, ...others] }, null, 2)}\n`);
      process.stdout.write(`${lines.join('\n')}\n${total} archives of ${dir}, each read back, in ${seconds(Date.now() - started)}\n`);
      return 0;
    },
    (id) =>
      runStepById({
        kind: 'archive',
        what: 'archive',
        id,
        flags,
        ...(asked ? { body: { formats: asked } } : {}),
        done: (url, recording) => {
          const tracks = (recording.tracks ?? []) as Array<{ name: string; files: Array<{ format: string; bytes: number }> }>;
          const rows = tracks.flatMap((t) => {
            const wav = t.files.find((f) => f.format === 'wav');
            return t.files.filter((f) => f.format !== 'wav').map((f) => `${`${t.name}.${f.format}`.padEnd(14)} ${kib(f.bytes).padStart(10)}${wav ? `  ${((f.bytes / wav.bytes) * 100).toFixed(1).padStart(5)}% of ${t.name}.wav` : ''}`);
          });
          return [...rows, `archives: ${url} (tracks[].files)`].join('\n');
        },
      }),
  );
}

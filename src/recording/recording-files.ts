/**
 * A recording's directory and files: the directory claimed exclusively (if it exists,
 * another stream with this id was recorded there, and nothing of this one may be written
 * over it), one WAV writer per kept track plus the stereo file, the first meta.json (status
 * recording, so a crash leaves the ids on disk) and the last. The seam where the files of a
 * recording meet the disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FileCreations } from './file-creations.js';
import { stageMeta, writeMeta, type RecordingMeta, type StagedMeta } from './meta.js';
import { WavFileWriter, type WavFileWriterOptions } from './wav-file.js';
import type { WavFormat } from './wav-header.js';

export interface FileInfo {
  readonly name: string;
  readonly bytes: number;
}

type FileName = 'inbound' | 'outbound' | 'stereo';

export class RecordingFiles {
  private readonly writers: Partial<Record<FileName, WavFileWriter>> = {};
  /** Set once the directory is this recording's; only then is anything written there. */
  private ownsDir = false;
  private initialMeta: Promise<void> | undefined;
  private closing = false;
  /** The final meta.json written ahead (stageFinalMeta), if it was. */
  private staged: Promise<StagedMeta | undefined> | undefined;

  constructor(
    readonly dir: string,
    private readonly layout: { readonly format: WavFormat; readonly sampleRate: number },
    private readonly onFailure: (file: string, err: NodeJS.ErrnoException) => void,
    private readonly writerOptions: WavFileWriterOptions,
    private readonly creations: FileCreations,
    private readonly log: Logger,
  ) {}

  /** Adds a file (before claim()); returns its writer, the timeline's sink for it. */
  add(name: FileName, channels: number): WavFileWriter {
    const writer = new WavFileWriter(path.join(this.dir, `${name}.wav`), { ...this.layout, channels }, (w, err) => this.onFailure(path.basename(w.path), err), this.writerOptions);
    this.writers[name] = writer;
    return writer;
  }

  get count(): number {
    return Object.keys(this.writers).length;
  }

  /**
   * Creates the directory, then opens the files and writes the first meta.json. The day's
   * directory exists for every call but the day's first: the stream's own directory is tried
   * alone, and the parents are made only when it says they are missing (a recursive mkdir
   * first cost every call two or three more syscalls in the file pool).
   */
  claim(initialMeta: () => RecordingMeta): void {
    const dir = this.dir;
    const files = Object.values(this.writers);
    const claimed = (err: NodeJS.ErrnoException | null) => {
      if (err) {
        for (const writer of files) writer.abandon(err);
        this.onFailure('recording directory', err);
        return;
      }
      this.ownsDir = true;
      for (const writer of files) writer.open();
      if (this.closing) return; // already finishing: the final meta.json follows
      this.initialMeta = writeMeta(dir, initialMeta(), this.creations).catch((error: unknown) => {
        this.log.warn({ err: error }, 'could not write the initial meta.json');
      });
    };
    const makeDir = (then: (err: NodeJS.ErrnoException | null) => void) =>
      fs.mkdir(dir, (err) => {
        if (err?.code !== 'ENOENT') return then(err);
        fs.mkdir(path.dirname(dir), { recursive: true }, (parentErr) => (parentErr ? then(parentErr) : fs.mkdir(dir, then)));
      });
    this.creations.call(makeDir, claimed);
  }

  /** Brings every header up to date (a quiet recording: its own writes patch them otherwise). */
  patchHeaders(): void {
    for (const writer of Object.values(this.writers)) writer.patchHeader();
  }

  /** `expected`: the size the file will have once what it was given is written (before close). */
  info(name: FileName, expected = false): FileInfo | undefined {
    const writer = this.writers[name];
    return writer ? { name: path.basename(writer.path), bytes: expected ? writer.expectedBytes : writer.bytesOnDisk } : undefined;
  }

  /**
   * Starts writing the final meta.json's likely text while the files close (see stageMeta);
   * writeFinalMeta() with the same text then only renames it.
   */
  stageFinalMeta(meta: RecordingMeta): void {
    if (!this.initialMeta) return; // the directory is not this recording's yet
    this.staged = this.initialMeta.then(() => (this.ownsDir ? stageMeta(this.dir, meta) : undefined));
  }

  /** The recording is ending: a directory claimed from now on gets only the final meta.json. */
  ending(): void {
    this.closing = true;
  }

  /** Writes what the files still hold and their final headers. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled(Object.values(this.writers).map((writer) => writer.close()));
  }

  /**
   * Removes closed files that turned out not to be part of the recording: only from a
   * directory this recording claimed (files of the same names in another stream's directory
   * are that stream's).
   */
  async remove(names: readonly FileName[]): Promise<void> {
    await this.initialMeta;
    const gone = names.map((name) => this.writers[name]).filter((writer): writer is WavFileWriter => writer !== undefined);
    if (this.ownsDir) await Promise.allSettled(gone.map((writer) => fs.promises.rm(writer.path, { force: true })));
    for (const name of names) delete this.writers[name];
  }

  /** Removes the directory, if this recording claimed it, with everything in it (a refused stream's). */
  async discard(): Promise<void> {
    this.closing = true;
    await this.initialMeta;
    await (await this.staged)?.written;
    if (!this.ownsDir) return;
    try {
      await fs.promises.rm(this.dir, { recursive: true, force: true });
    } catch (err) {
      this.log.error({ err }, "could not remove a refused stream's directory");
    }
  }

  /** The final meta.json, after the first (never through the creation queue: an ending must not wait behind calls starting). */
  async writeFinalMeta(meta: RecordingMeta): Promise<void> {
    this.closing = true;
    await this.initialMeta;
    if (!this.ownsDir) return;
    try {
      await writeMeta(this.dir, meta, undefined, await this.staged);
    } catch (err) {
      this.log.error({ err }, 'could not write meta.json');
    }
  }
}

/**
 * Step `peaks`: the waveform peaks of a finished recording, computed once in a worker thread
 * and kept beside its files as peaks.bin (recording/peaks.ts), before the upload so that they
 * travel to the bucket with the audio.
 */
import fsp from 'node:fs/promises';
import type { Catalog } from '../../catalog/catalog.js';
import { peakSourcesOf } from '../../catalog/peaks-store.js';
import { decodePeaks, PEAKS_FILE } from '../../recording/peaks.js';
import type { Step } from '../runner.js';
import type { WorkerPool } from '../worker-pool.js';

export function peaksStep(catalog: Catalog, pool: WorkerPool): Step {
  return {
    kind: 'peaks',
    concurrency: 2,
    drain: true,
    // Best effort: the API computes peaks on demand when peaks.bin is missing, so a failure
    // (a full disk, say) is tried once more and then given up rather than holding the
    // recording's later steps, its webhook among them.
    maxAttempts: 2,
    retryBaseMs: 1000,
    async run(recording) {
      const file = catalog.filePath(recording, PEAKS_FILE);
      // Done before (the answer to its last attempt was lost): the same file again.
      if (decodePeaks(await fsp.readFile(file).catch(() => Buffer.alloc(0)))) return;
      await pool.run({ kind: 'peaks', dir: catalog.recordingDir(recording), sources: peakSourcesOf(recording) });
    },
  };
}

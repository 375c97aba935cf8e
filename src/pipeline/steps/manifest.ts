/**
 * Step `manifest` (with CALLTAPE_SIGNING_KEY): the recording's custody manifest, signed
 * (custody/), written beside its files after every step that writes one (archives included)
 * and before the upload, so it travels to the bucket with them. Made again whenever a step
 * run by hand changes a file (the routes queue it after them); for a recording already in
 * the bucket it is made from the bucket's copies and put there.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { ANALYTICS_FILE } from '../../analytics/analyze-recording.js';
import { AUDIO_EXTENSIONS } from '../../archive/formats.js';
import { buildManifest, MANIFEST_FILE, MANIFEST_SIGNATURE_FILE, signedManifest } from '../../custody/manifest.js';
import type { SigningKey } from '../../custody/minisign.js';
import { PEAKS_FILE } from '../../recording/peaks.js';
import { writeFileAtomic } from '../../storage/atomic-file.js';
import { recordingKey } from '../../storage/recording-keys.js';
import { SUMMARY_FILE } from '../../summarize/summary.js';
import { TRANSCRIPT_FILE } from '../../transcribe/transcript.js';
import { CALLTAPE_VERSION } from '../../version.js';
import type { Step } from '../runner.js';
import { withRecordingFiles } from './step-files.js';
import { ENCRYPTION_FILE } from '../../custody/encryption-record.js';

export interface ManifestStepOptions {
  readonly catalog: Catalog;
  readonly dataDir: string;
  readonly key: SigningKey;
  readonly logger: Logger;
}

/** Every file a recording may have besides its WAVs and meta.json: copied from the bucket when there. */
function otherFiles(recording: Recording): string[] {
  const archives = recording.files.flatMap((f) => AUDIO_EXTENSIONS.filter((ext) => ext !== 'wav').map((ext) => f.file.replace(/\.wav$/, `.${ext}`)));
  const plain = [PEAKS_FILE, TRANSCRIPT_FILE, ANALYTICS_FILE, SUMMARY_FILE, ...archives];
  // Encrypted: its .age files and the record of them instead.
  if (!recording.encryption) return plain;
  return [ENCRYPTION_FILE, PEAKS_FILE, ...recording.encryption.files.map((f) => f.name)];
}

export function manifestStep(opts: ManifestStepOptions): Step {
  const { catalog, logger } = opts;
  return {
    kind: 'manifest',
    concurrency: 2,
    // Quick (a read of each file): made at shutdown too, before the webhook says the call is kept.
    drain: true,
    maxAttempts: 3,
    retryBaseMs: 1000,
    async run(recording) {
      return withRecordingFiles(catalog, opts.dataDir, recording, 'manifest', otherFiles(recording), async (dir) => {
        const manifest = await buildManifest(dir, recording, CALLTAPE_VERSION);
        const { text, signature } = signedManifest(manifest, opts.key);
        await writeFileAtomic(path.join(dir, MANIFEST_FILE), text);
        await writeFileAtomic(path.join(dir, MANIFEST_SIGNATURE_FILE), signature);
        const store = catalog.objectStore;
        if (recording.storage === 's3' && store) {
          const keyDir = catalog.recordingDir(recording);
          await store.put(recordingKey(opts.dataDir, keyDir, MANIFEST_FILE), path.join(dir, MANIFEST_FILE), 'application/json');
          await store.put(recordingKey(opts.dataDir, keyDir, MANIFEST_SIGNATURE_FILE), path.join(dir, MANIFEST_SIGNATURE_FILE), 'text/plain');
          // A spool copy kept beside the bucket (CALLTAPE_KEEP_LOCAL) gets them too.
          const spool = catalog.recordingDir(recording);
          if (spool !== dir && (await fsp.stat(spool).then(() => true, () => false))) {
            await writeFileAtomic(path.join(spool, MANIFEST_FILE), text);
            await writeFileAtomic(path.join(spool, MANIFEST_SIGNATURE_FILE), signature);
          }
        }
        logger.info({ streamSid: recording.streamSid, files: manifest.files.length }, 'manifest: signed');
      });
    },
  };
}

/**
 * Step `encrypt` (CALLTAPE_ENCRYPT_TO): the recording's content encrypted to its owner's age
 * recipients in a worker thread (custody/encrypt-recording.ts), after every step that reads
 * it (peaks, transcript, analytics, summary, archives: the catalog's search text, figures and
 * the waveform are made from the plaintext first) and before the manifest and the upload, so
 * only ciphertext is signed for and leaves the machine. The catalog records the encryption,
 * drops the recording's DTMF digits and marks from the catalog (meta.json.age keeps them),
 * and (unless CALLTAPE_INDEX_ENCRYPTED_TEXT) its transcript and summary text from the search
 * index, in the job's own transaction.
 */
import type { Logger } from 'pino';
import type { Catalog } from '../../catalog/catalog.js';
import { PermanentStepError, type Step } from '../runner.js';
import type { WorkerPool } from '../worker-pool.js';

export interface EncryptStepOptions {
  readonly catalog: Catalog;
  readonly recipients: readonly string[];
  readonly indexEncryptedText: boolean;
  readonly pool: WorkerPool;
  readonly logger: Logger;
}

export function encryptStep(opts: EncryptStepOptions): Step {
  const { catalog, logger } = opts;
  return {
    kind: 'encrypt',
    concurrency: 1,
    maxAttempts: 5,
    retryBaseMs: 5000,
    async run(recording, _job, _signal, report) {
      if (recording.encryption) return;
      // Encrypted before its upload: a recording already in the bucket (from before encryption
      // was turned on) has its plaintext there, which this step does not rewrite.
      if (recording.storage === 's3') throw new PermanentStepError('the recording was stored in the bucket before encryption was turned on: its objects are not rewritten');
      const dir = catalog.recordingDir(recording);
      report('encrypting');
      const started = Date.now();
      // WAVs their archives replaced may still be on disk for a moment (removed after the
      // archive step commits): they are removed, not encrypted.
      const removed = recording.files.filter((f) => f.wavRemoved).map((f) => f.file);
      const record = await opts.pool.run({ kind: 'encrypt', dir, recipients: opts.recipients, removed });
      const encryption = { at: new Date().toISOString(), recipients: [...record.recipients], files: record.files };
      return {
        async inTransaction(trx) {
          await catalog.repo.setEncryption(trx, recording.id, encryption);
          // The words of an encrypted call are not left readable in the search index.
          if (!opts.indexEncryptedText) await trx.deleteFrom('transcript_segments').where('recording_id', '=', recording.id).execute();
          // Nor its digits and marks (a card number keyed in, a bot's labels) in the catalog:
          // meta.json.age keeps them. Pauses are times only, and stay.
          await trx.deleteFrom('recording_events').where('recording_id', '=', recording.id).where('kind', 'in', ['dtmf', 'mark']).execute();
        },
        committed() {
          const bytes = record.files.reduce((n, f) => n + f.plaintext.bytes, 0);
          logger.info({ streamSid: recording.streamSid, files: record.files.length, bytes, ms: Date.now() - started, recipients: record.recipients.length }, 'encrypt: recording encrypted to its recipients');
        },
      };
    },
  };
}

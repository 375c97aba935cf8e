/**
 * What every route under /api/recordings/:id starts with: the recording, or a 404; and why
 * one of its files is not on this node (another node has it, named, or it is gone).
 */
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { CalltapeError } from '../../errors.js';

export async function findRecording(catalog: Catalog, id: string): Promise<Recording> {
  const recording = await catalog.repo.get(id);
  if (recording) return recording;
  // Deleted: 410 with its tombstone (who, when, why), not a bare 404.
  const tombstone = await catalog.tombstones.get(id);
  if (tombstone) {
    throw new CalltapeError('CALLTAPE_ERR_RECORDING_DELETED', `deleted ${tombstone.deletedAt} by ${tombstone.deletedBy}${tombstone.reason ? `: ${tombstone.reason}` : ''}`, { body: { tombstone } });
  }
  throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', `no recording ${JSON.stringify(id.slice(0, 64))}`);
}

/**
 * Why a file of `recording` is not here: another node holds it (recording the call, or the
 * node that recorded it when there is no shared bucket), named; or it is simply gone.
 */
export function notHere(catalog: Catalog, recording: Recording, what: string): CalltapeError {
  if (recording.node && recording.node !== catalog.nodeId && recording.storage !== 's3') {
    return new CalltapeError(
      'CALLTAPE_ERR_ON_ANOTHER_NODE',
      recording.status === 'recording'
        ? `node ${recording.node} is recording this call: ask it, or wait until the recording is finished`
        : catalog.objectStore
          ? `${what} is on node ${recording.node}'s disk until its upload to the bucket finishes: ask that node, or try again shortly`
          : `${what} is on node ${recording.node}'s disk (nodes share recordings only through a bucket, CALLTAPE_STORAGE_URL): ask that node`,
    );
  }
  return new CalltapeError('CALLTAPE_ERR_NOT_FOUND', `${what} is not on disk or in the store`);
}

/**
 * Before a post-call step is queued by hand: the call has ended, has audio, and its files are
 * where this node's pipeline can read them (its own disk, or the bucket); a step that reads
 * the WAVs (`needsWav`) needs them still there. `work` names the step in messages.
 */
/** 409 for a read of an encrypted recording's content: which .age file holds it instead, and how to read it. */
export function encryptedError(recording: Recording, what: string, file?: string): CalltapeError {
  const age = file ? `${file}.age` : undefined;
  const where = age && recording.encryption?.files.some((f) => f.name === age) ? `download ${age} (GET /api/recordings/${recording.id}/files/${age}) and decrypt it with age -d -i <key file>` : 'download its .age files (GET /api/recordings/:id/files/<name>.age) and decrypt them with age -d -i <key file>';
  return new CalltapeError('CALLTAPE_ERR_ENCRYPTED', `${what}, which is encrypted to its owner's age key (the server holds no private key): ${where}`);
}

export async function checkStepCanRun(catalog: Catalog, recording: Recording, work: string, needsWav: boolean): Promise<void> {
  if (recording.status === 'recording') throw new CalltapeError('CALLTAPE_ERR_RECORDING_IN_PROGRESS', `the call is still being recorded: ${work} follows once it ends`);
  if (recording.files.length === 0) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'the recording has no audio');
  if (recording.encryption) throw encryptedError(recording, `${work} reads the call's content`);
  if (needsWav && recording.files.some((f) => f.wavRemoved)) {
    throw new CalltapeError('CALLTAPE_ERR_NO_SUCH_FORMAT', `${work} reads the WAVs, and they were removed once their archives were verified (CALLTAPE_KEEP_WAV=false)`);
  }
  // The node holding the spool runs the step: its files must be on this disk, or in the bucket.
  if (recording.storage !== 's3' && !(await catalog.openFile(recording, 'meta.json'))) throw notHere(catalog, recording, 'the audio');
}

/**
 * What every route under /api/recordings/:id starts with: the recording, or a 404; and why
 * one of its files is not on this node (another node has it, named, or it is gone).
 */
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { CalltapeError } from '../../errors.js';

export async function findRecording(catalog: Catalog, id: string): Promise<Recording> {
  const recording = await catalog.repo.get(id);
  if (!recording) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', `no recording ${JSON.stringify(id.slice(0, 64))}`);
  return recording;
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

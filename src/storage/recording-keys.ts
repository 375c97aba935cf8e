/**
 * A recording's object keys mirror its place on disk: `YYYY/MM/DD/<streamId>/<file>`, the
 * path under the data dir's recordings/ (the store adds its own prefix).
 */
import path from 'node:path';
import { recordingsRoot } from './local.js';

/** The files of a recording directory that travel to the store. */
export const SPOOLED_FILE = /^(inbound|outbound|stereo)\.(wav|flac|opus|mp3)(\.age)?$|^(meta|transcript|analytics|summary)\.json(\.age)?$|^(peaks|manifest|encryption)\.json$|^peaks\.bin$|^manifest\.json\.minisig$/;

export function recordingKey(dataDir: string, dir: string, file: string): string {
  const relative = path.relative(recordingsRoot(dataDir), dir).split(path.sep).join('/');
  if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`${dir} is not under the recordings directory`);
  return `${relative}/${file}`;
}

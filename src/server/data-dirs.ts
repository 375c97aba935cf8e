/**
 * The directories calltape writes to (the data dir with the SQLite catalog, and recordings/
 * under it, which is also the spool when recordings go to a bucket), checked at start-up by
 * really writing to them, and the lock holder's PID beside the catalog. A problem here is a
 * one-line ConfigError naming the setting and the path, never a stack trace or a server that
 * starts and then fails every call.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.js';
import { recordingsRoot } from '../storage/local.js';

const DATA_DIR_SETTING = 'CALLTAPE_DATA_DIR / --data-dir';
/** Beside calltape.db: the PID of the process holding the catalog's exclusive lock. */
export const PID_FILE = 'calltape.pid';

/** What went wrong, as the OS said it: "EACCES: permission denied". */
function osError(err: unknown): string {
  const { code, message } = err as NodeJS.ErrnoException;
  const reason = message?.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '') ?? 'error';
  return code ? `${code}: ${reason}` : reason;
}

/** Makes `dir` if missing and writes (then removes) a file in it; a ConfigError naming `label` otherwise. */
function assertWritable(dir: string, label: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.statSync(dir).isDirectory()) throw new ConfigError(`${label} is not a directory`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new ConfigError(`${label} is not a directory`);
    throw new ConfigError(`${label} cannot be made (${osError(err)})`);
  }
  // access(W_OK) is not enough: it says yes to root on a read-only mount's ACLs, and no
  // to nothing a real write would refuse. A file made and removed is the real question.
  const probe = path.join(dir, `.calltape-write-check-${process.pid}`);
  try {
    fs.writeFileSync(probe, '', { flag: 'wx' });
    fs.unlinkSync(probe);
  } catch (err) {
    throw new ConfigError(`${label} cannot be written (${osError(err)})`);
  }
}

/**
 * Every directory calltape writes to can be written: the data dir (the SQLite catalog lives
 * there) and recordings/ (the audio, and the spool of uploads), which is often its own volume.
 */
export function checkDataDirs(dataDir: string): void {
  const resolved = path.resolve(dataDir);
  assertWritable(resolved, `data dir ${JSON.stringify(resolved)} (${DATA_DIR_SETTING})`);
  const recordings = recordingsRoot(dataDir);
  assertWritable(recordings, `recordings dir ${JSON.stringify(recordings)} (recordings/ under ${DATA_DIR_SETTING})`);
}

/**
 * The error SQLite gives a second process on a data dir whose catalog another holds (the
 * catalog is opened with an exclusive lock), as one line naming the holder's PID when known.
 */
export function catalogOpenError(err: unknown, dataDir: string): Error {
  const code = (err as { code?: unknown }).code;
  const resolved = path.resolve(dataDir);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    const pid = holderPid(resolved);
    const who = pid === undefined ? 'another process' : `another calltape (pid ${pid})`;
    return new ConfigError(
      `data dir ${JSON.stringify(resolved)} (${DATA_DIR_SETTING}) is in use: ${who} holds its catalog calltape.db. Stop it, or give this server its own data dir`,
    );
  }
  if (typeof code === 'string' && /^SQLITE_(CANTOPEN|READONLY|PERM|IOERR)/.test(code)) {
    return new ConfigError(`the catalog ${JSON.stringify(path.join(resolved, 'calltape.db'))} in the data dir (${DATA_DIR_SETTING}) cannot be opened for writing (${code}: ${(err as Error).message})`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

function holderPid(dataDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, PID_FILE), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Written once this process holds the catalog's lock; a stale one is simply overwritten. */
export function writePidFile(dataDir: string): void {
  try {
    fs.writeFileSync(path.join(dataDir, PID_FILE), `${process.pid}\n`);
  } catch {
    // Only a nicer message for a second server depends on it.
  }
}

export function removePidFile(dataDir: string): void {
  try {
    const file = path.join(dataDir, PID_FILE);
    if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
  } catch {
    // Gone already, or never written.
  }
}

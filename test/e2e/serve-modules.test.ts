/**
 * What `calltape serve` loads into the event loop's thread. The archive encoders and
 * decoders (mediabunny, opus, FLAC), the VAD and age are the pipeline worker threads' code:
 * loaded by the main thread too, through the CLI's other commands or the worker pool's
 * fallback, their sources and compiled code held 8-10 MiB of an idle server's RSS.
 *
 * A module resolution hook (node:module register) records every import with the module
 * that asked for it, in the server's threads, so the test sees which edges were taken.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnCalltape } from '../helpers/process.js';
import { tempDataDir } from '../helpers/recordings.js';

describe('calltape serve', () => {
  it("does not load the worker threads' tasks (archive encoders, VAD, age) or the other commands' modules in its event loop's thread", async () => {
    const dir = tempDataDir();
    const record = path.join(dir, 'imports.tsv');
    const hooks = path.join(dir, 'hooks.mjs');
    fs.writeFileSync(
      hooks,
      `import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  fs.appendFileSync(${JSON.stringify(record)}, resolved.url + '\\t' + (context.parentURL ?? '') + '\\n');
  return resolved;
}
`,
    );
    const register = path.join(dir, 'register.mjs');
    fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const server = spawnCalltape(path.join(dir, 'data'), { NODE_OPTIONS: `--import ${pathToFileURL(register).href}` });
    try {
      await server.url;
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const edges = fs
      .readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split('\t') as [string, string]);
    const importersOf = (module: string) => new Set(edges.filter(([url]) => url.endsWith(`/dist/${module}`)).map(([, parent]) => parent.replace(/^.*\/dist\//, '')));
    // The server did start its worker threads, so the hook saw their imports too.
    expect(importersOf('pipeline/worker-tasks.js')).toEqual(new Set(['pipeline/worker.js']));
    expect(importersOf('archive/archive-file.js')).toEqual(new Set(['pipeline/worker-tasks.js']));
    for (const command of ['archive', 'transcribe', 'insights', 'simulate', 'custody']) expect(importersOf(`cli/${command}.js`), command).toEqual(new Set());
  });
});

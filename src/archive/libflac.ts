/**
 * Loads libflac.js's WebAssembly build (libflacjs). Its Emscripten loader fetches the .wasm
 * beside it with `fetch` whenever `fetch` exists, and Node's fetch cannot read a file path
 * ("Failed to parse URL"), so on Node 18+ the load fails. Hiding `fetch` for the load makes
 * the loader read the file from disk, as it does on older Node. Loaded once per thread: the
 * pipeline's worker threads are the only place it runs.
 */
import { createRequire } from 'node:module';
import type * as LibFlac from 'libflacjs/dist/libflac.wasm.js';

export type Flac = typeof LibFlac;

let loading: Promise<Flac> | undefined;

export function loadLibFlac(): Promise<Flac> {
  loading ??= new Promise<Flac>((resolve, reject) => {
    const require = createRequire(import.meta.url);
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
    const restore = () => {
      if (descriptor) Object.defineProperty(globalThis, 'fetch', descriptor);
    };
    let flac: Flac;
    try {
      // Configurable on Node (a plain property of globalThis): removed for the load only.
      delete (globalThis as { fetch?: unknown }).fetch;
      flac = require('libflacjs/dist/libflac.wasm.js') as Flac;
    } catch (err) {
      restore();
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const ready = () => {
      restore();
      resolve(flac);
    };
    if (flac.isReady()) ready();
    else flac.on('ready', ready);
    // The loader reports a failed instantiation by aborting, not through 'ready'.
    setTimeout(() => {
      if (!flac.isReady()) {
        restore();
        reject(new Error('libflac.js did not load its WebAssembly within 10 s'));
      }
    }, 10_000).unref();
  });
  return loading;
}

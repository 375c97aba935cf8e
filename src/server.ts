/**
 * `calltape/server`: the HTTP + WebSocket server around the recorder (catalog, REST API,
 * webhooks). Apart from the main entry so that embedding the recorder loads no HTTP
 * framework, database driver or metrics library.
 *
 *   import { startServer } from 'calltape/server';
 *   const server = await startServer({ port: 8080, dataDir: './data' });
 */
export { buildApp } from './http/app.js';
export { startServer } from './server/start.js';
export type { ServeOptions } from './server/start.js';
export type { RunningServer } from './server/start.js';

/**
 * The dashboard (web/, built by vite into dist/web): GET / serves its page and /assets/* its
 * bundle. The bundle holds no data and no secret, but it is served to the clients the API is
 * served to: anyone when an API token is configured (the page then asks for the token),
 * local clients only when none is. Without a built bundle the server still runs and / says
 * how to build it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import { recordingJson } from '../../catalog/recording-json.js';
import { hasApiCredentials } from '../../auth/api-credentials.js';
import type { Config } from '../../config.js';
import { CalltapeError } from '../../errors.js';
import { notLocalBecause } from '../auth.js';

/** The first page of the list, as the dashboard's recordings page asks for it. */
const FIRST_PAGE_SIZE = 25;
/** Where the page finds the data it was served with (web/src/initial-data.ts reads it). */
const INITIAL_DATA_ID = 'calltape-initial';

/**
 * <package>/dist/web, where `npm run build` puts the bundle: this file is three levels under
 * the package root whether it runs compiled (dist/http/routes) or from source (src/http/routes).
 */
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'web');

/**
 * Scripts, styles, media and sockets from this server only; no framing (clickjacking); inline
 * styles for wavesurfer's shadow DOM; blob: for the audio graph.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    .header('X-Frame-Options', 'DENY');
}

/**
 * The page's first view, for a client the API answers without a sign-in (a local one): how it
 * stands and the newest recordings. With it in the page the list is drawn as the page loads,
 * not after two more round trips, so anything that captures a page at its load event (a
 * plain `chromium --screenshot`, a link preview) sees the list. Anyone else gets none.
 */
async function initialData(config: Config, catalog: Catalog, request: FastifyRequest): Promise<string | undefined> {
  // Only without a token (a local client): the session cookie is never sent to / (Path=/api),
  // and a bearer token on this public route must not tell a guess from the right token.
  if (hasApiCredentials(config) || notLocalBecause(config, request)) return undefined;
  const page = await catalog.repo.list({ limit: FIRST_PAGE_SIZE });
  const jobs = await catalog.jobs.forRecordings(page.items.map((r) => r.id));
  const data = { session: { access: 'local' }, recordings: { items: page.items.map((r) => recordingJson(r, '', jobs.get(r.id) ?? [])), nextCursor: page.nextCursor } };
  // Inside a <script> element only "</" could end it early: every "<" is escaped.
  return JSON.stringify(data).replace(/</g, '\\u003c');
}

export const webRoutes: FastifyPluginAsync<{ readonly config: Config; readonly catalog: Catalog; readonly webRoot?: string | undefined }> = async (
  app,
  { config, catalog, webRoot = DEFAULT_WEB_ROOT },
) => {
  app.addHook('onRequest', async (request) => {
    if (hasApiCredentials(config)) return;
    const because = notLocalBecause(config, request);
    if (because) throw new CalltapeError('CALLTAPE_ERR_API_LOOPBACK_ONLY', because);
  });
  await app.register(fastifyStatic, { root: webRoot, serve: false });
  const isFile = (file: string): Promise<boolean> => fs.promises.stat(file).then((stat) => stat.isFile(), () => false);

  app.get('/', { config: { access: 'public' } }, async (request, reply) => {
    let page: string;
    try {
      page = await fs.promises.readFile(path.join(webRoot, 'index.html'), 'utf8');
    } catch {
      throw new CalltapeError('CALLTAPE_ERR_DASHBOARD_NOT_BUILT', `no dashboard bundle at ${webRoot}: run \`npm run build\` (the API works without it)`);
    }
    const data = await initialData(config, catalog, request);
    if (data) page = page.replace('</head>', `<script type="application/json" id="${INITIAL_DATA_ID}">${data}</script></head>`);
    // The page names its hashed bundle and may carry data: never stored, the bundle always is.
    return pageHeaders(reply).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(page);
  });

  app.get<{ Params: { '*': string } }>('/assets/*', { config: { access: 'public' } }, async (request, reply) => {
    const name = request.params['*'];
    // Bundle files are flat, named by vite: anything else is not ours.
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no such asset');
    if (!(await isFile(path.join(webRoot, 'assets', name)))) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no such asset');
    return pageHeaders(reply).sendFile(path.join('assets', name), { maxAge: '365d', immutable: true });
  });
};

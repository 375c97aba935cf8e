/**
 * Who may reach which route. Every route declares its access class in its route config, and
 * the check runs on the route fastify matched, never on the URL text: `/%61pi/recordings`,
 * an absolute-form target (`GET http://x/api/recordings`) and any other spelling that routes
 * to an API handler meet the same check as `/api/recordings`. A route registered without an
 * access class is refused at start-up (default deny).
 *
 *   public    /healthz, /readyz: no credentials, nothing secret in the answer
 *   provider  /twiml, /answer/*, /streams/*: the provider's own credentials (see auth.ts)
 *   api       /api/*, /metrics: CALLTAPE_API_TOKEN, or a local client when none is set
 *             (checked by the API plugin's own hook, routes/api.ts)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { CalltapeError } from '../errors.js';

export type Access = 'public' | 'provider' | 'api';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with its access class, as registered: what the route-table test walks. */
    readonly accessRoutes: readonly AccessRoute[];
  }
  interface FastifyContextConfig {
    /** Who may call the route (see http/access.ts); every route must say. */
    access?: Access;
    /** The API token may come as ?token= (EventSource cannot send headers); the log redacts it. */
    apiTokenInQuery?: boolean;
  }
}

/** A route as the access layer saw it registered: what the route-table test walks. */
export interface AccessRoute {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Bodies a browser form (or a no-cors fetch) can send cross-site without a preflight. */
const SIMPLE_BODY = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Browsers put Sec-Fetch-Site and Origin on requests one site makes to another; the API is
 * for scripts and the server's own pages, so a browser request from another site is refused
 * before its handler runs (a page elsewhere must not pause or delete recordings through a
 * user's browser). State-changing requests also refuse the body types a cross-site form can
 * send without a CORS preflight.
 */
export function checkSameSite(config: Config, request: FastifyRequest): void {
  const fetchSite = header(request, 'sec-fetch-site');
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') throw new CalltapeError('CALLTAPE_ERR_CROSS_SITE', `Sec-Fetch-Site: ${fetchSite}`);
  // A WebSocket handshake is a GET, but it opens a channel any page may read: Chromium sends
  // only Origin on it (no Sec-Fetch-*), so a browser's upgrade is held to its Origin like a
  // state change (without a token the API trusts loopback, and every page runs on loopback).
  const upgrade = header(request, 'upgrade')?.toLowerCase() === 'websocket';
  if (SAFE_METHODS.has(request.method) && !upgrade) return;
  const origin = header(request, 'origin');
  if (origin !== undefined && !isOwnOrigin(config, request, origin)) {
    throw new CalltapeError('CALLTAPE_ERR_CROSS_SITE', `Origin ${JSON.stringify(origin.slice(0, 100))} is not this server`);
  }
  if (upgrade) return;
  const type = header(request, 'content-type');
  if (type !== undefined && SIMPLE_BODY.test(type)) {
    throw new CalltapeError('CALLTAPE_ERR_CROSS_SITE', `${type.split(';')[0]!.trim()} bodies are not accepted by the API (send JSON)`);
  }
}

/** Whether a browser's Origin is this server (its public URL, or the Host it asked for). */
export function isOwnOrigin(config: Config, request: FastifyRequest, origin: string): boolean {
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  if (config.publicUrl && new URL(config.publicUrl).host === host) return true;
  return host === header(request, 'host');
}

/**
 * Installs the access layer: every route must declare `config.access`, and each request is
 * checked against the access class of the route it matched.
 */
export function installAccess(app: FastifyInstance): void {
  const routes: AccessRoute[] = [];
  app.decorate('accessRoutes', routes);
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (access !== 'public' && access !== 'provider' && access !== 'api') {
      throw new Error(`route ${methods.join(',')} ${route.url} declares no access class (config.access)`);
    }
    for (const method of methods) routes.push({ method, url: route.url, access });
  });
  // The API's own hook (routes/api.ts) checks its clients; an `api` route registered
  // anywhere else would be reached unchecked, so it is refused here instead of served.
  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.config.access === 'api' && !apiClients.has(request)) {
      throw new CalltapeError('CALLTAPE_ERR_INTERNAL', 'an API route outside the API plugin');
    }
  });
}

/** The requests the API plugin's hook let in, each with who its client is. */
const apiClients = new WeakMap<FastifyRequest, ApiActor>();

/**
 * Who an API client is: how it got in (a bearer token, the dashboard's session, or a local
 * client when no credential is configured) and the name of the credential it used.
 */
export interface ApiActor {
  readonly via: 'token' | 'session' | 'local';
  /** The credential's name (auth/api-credentials.ts); null for a local client. */
  readonly name: string | null;
}

/** The API plugin's hook passed this request (see routes/api.ts), its client being `actor`. */
export function markApiChecked(request: FastifyRequest, actor: ApiActor): void {
  apiClients.set(request, actor);
}

/** Who is asking, as the API let the client in. */
export function apiActorOf(request: FastifyRequest): ApiActor {
  const actor = apiClients.get(request);
  if (!actor) throw new CalltapeError('CALLTAPE_ERR_INTERNAL', 'an API route outside the API plugin');
  return actor;
}

/**
 * Who is asking, as holds, tombstones and the audit trail write it: `token:<name>` (a bearer
 * token), `session:<name>` (the dashboard, signed in with that credential), or `local`.
 */
export function actorLabelOf(request: FastifyRequest): string {
  const { via, name } = apiActorOf(request);
  return name === null ? via : `${via}:${name}`;
}

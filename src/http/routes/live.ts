/**
 * Live views: GET /api/streams/live (calls being recorded now), GET /api/events (Server-Sent
 * Events: started, finished), and pausing a live recording:
 * POST /api/streams/:streamSid/pause {behavior: silence|skip} and /resume, and listening to a
 * live call: GET /api/streams/:streamSid/listen (WebSocket). With several nodes on one
 * catalog, the live list covers them all and pause/resume reach the node recording the call.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { NodeRegistry } from '../../catalog/node-registry.js';
import { ClusterClient, FORWARDED_HEADER } from '../cluster-client.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { CalltapeError, WS_CLOSE } from '../../errors.js';
import type { Listener } from '../../recording/listen-tap.js';
import type { Recorder } from '../../recording/recorder.js';
import type { PauseBehavior } from '../../recording/session.js';
import { recordingJson } from '../../catalog/recording-json.js';
import type { Config } from '../../config.js';
import { EventStreamHub } from '../event-stream.js';
import { redactUrl } from '../../redact.js';
import { LISTEN_MAX_BUFFERED_BYTES } from '../../limits.js';
import { AUDIT_ENTRY_HEADER, audit, auditRelayed } from '../audit.js';
import { apiCredentials } from '../../auth/api-credentials.js';
import type { AuditAction } from '../../catalog/audit-log.js';

export interface LiveOptions {
  readonly recorder: Recorder;
  readonly catalog: Catalog;
  readonly config: Config;
  /** The other nodes sharing the catalog (absent for an embedding without one). */
  readonly nodes?: NodeRegistry | undefined;
}

export const liveRoutes: FastifyPluginAsync<LiveOptions> = async (app, { recorder, catalog, config, nodes }) => {
  const cluster = nodes ? new ClusterClient(config, nodes) : undefined;
  const forwarded = (request: FastifyRequest) => request.headers[FORWARDED_HEADER] !== undefined;
  /** Who a node relaying to this one is, as the audit trail names it (the cluster client's credential). */
  const relay = apiCredentials(config)[0];
  const relayActor = relay ? `token:${relay.name}` : 'local';

  // ?levels=1: the caller shows level meters, so the calls' levels are measured for a while.
  // Every node's calls are listed (each asked through its API); ?scope=node lists this one's.
  const liveQuery = { type: 'object', properties: { levels: { enum: ['0', '1'] }, scope: { enum: ['cluster', 'node'] } }, additionalProperties: false } as const;
  app.get<{ Querystring: { levels?: '0' | '1'; scope?: 'cluster' | 'node' } }>('/api/streams/live', { config: { access: 'api' }, schema: { querystring: liveQuery } }, async (request) => {
    const levels = request.query.levels === '1';
    const items: Array<Record<string, unknown>> = recorder.liveStreams({ watchLevels: levels }).map(({ dir: _dir, ...live }) => ({ ...live, node: catalog.nodeId }));
    if (!cluster || request.query.scope === 'node' || forwarded(request)) return { items };
    const elsewhere = await cluster.liveElsewhere(levels);
    return { items: [...items, ...elsewhere.items], ...(elsewhere.unreachable.length > 0 ? { unreachableNodes: elsewhere.unreachable } : {}) };
  });

  /** The node recording a live call that is not this node's, if the catalog knows one. */
  const ownerElsewhere = async (streamSid: string): Promise<string | undefined> => {
    const row = await catalog.repo.getByStreamSid(streamSid);
    return row?.status === 'recording' && row.node && row.node !== catalog.nodeId ? row.node : undefined;
  };

  /** The recording of a call, for the audit trail (null while its row is not written yet). */
  const recordingIdOf = async (streamSid: string): Promise<string | null> => (await catalog.repo.getByStreamSid(streamSid).catch(() => undefined))?.id ?? null;

  /**
   * The audit entry of an action on a live call done here: claimed from the node that relayed
   * it (which logged its client), else written here.
   */
  const auditLive = async (request: FastifyRequest, action: AuditAction, streamSid: string, detail?: string) => {
    await auditRelayed(catalog.audit, request, action, streamSid, { recordingId: await recordingIdOf(streamSid), detail }, relayActor);
  };

  /** Pause or resume a call another node records, through that node's API (logged here, for this client). */
  const forwardToOwner = async (request: FastifyRequest, reply: FastifyReply, streamSid: string, path: string, body: unknown, action: AuditAction, detail?: string) => {
    const owner = cluster && !forwarded(request) ? await ownerElsewhere(streamSid) : undefined;
    if (!owner) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no live stream with that streamSid');
    const entry = await audit(catalog.audit, request, action, { streamSid, recordingId: await recordingIdOf(streamSid), detail: `${detail ? `${detail}; ` : ''}relayed to node ${owner}` });
    const answer = await cluster!.forward(owner, 'POST', path, body, { [AUDIT_ENTRY_HEADER]: entry });
    if (!answer) throw new CalltapeError('CALLTAPE_ERR_NODE_UNREACHABLE', `node ${owner} records this call and did not answer`);
    return reply.code(answer.status).send(answer.body);
  };

  const events = new EventStreamHub({
    maxBufferedBytes: config.sseMaxBufferedBytes,
    // Under the HTTP idle deadline, so a quiet stream is never taken for a stalled one.
    heartbeatMs: Math.min(15_000, Math.floor(config.httpIdleTimeoutMs / 2)),
    onSlowClient: () => {
      recorder.countRejection('CALLTAPE_ERR_SLOW_CLIENT');
      app.log.warn({ code: 'CALLTAPE_ERR_SLOW_CLIENT', limitBytes: config.sseMaxBufferedBytes }, 'event stream client dropped: it does not read what it is sent');
    },
  });
  catalog.on('recording.started', (recording: Recording) => events.send('started', recording.id, recordingJson(recording)));
  catalog.on('recording.finished', (recording: Recording) => events.send('finished', recording.id, recordingJson(recording)));
  // Event streams never end on their own: closing the server ends them (a clean shutdown).
  app.addHook('preClose', async () => events.closeAll());

  app.get('/api/events', { config: { access: 'api', apiTokenInQuery: true } }, (request, reply) => {
    // A hijacked response gets no request line at its end: it is logged as it opens.
    request.log.info({ method: request.method, url: redactUrl(request.url), clients: events.size + 1 }, 'event stream opened');
    reply.hijack();
    events.add(reply.raw);
  });

  const behaviorSchema = { type: 'object', properties: { behavior: { enum: ['silence', 'skip'] } } } as const;
  app.post<{ Params: { streamSid: string }; Body: { behavior?: unknown } | undefined }>(
    '/api/streams/:streamSid/pause',
    { config: { access: 'api' }, schema: { querystring: behaviorSchema, body: { ...behaviorSchema, nullable: true } } },
    async (request, reply) => {
      // Both places are checked by the schemas: silence or skip.
      const behavior = (request.body?.behavior ?? (request.query as { behavior?: unknown }).behavior ?? 'silence') as PauseBehavior;
      const { streamSid } = request.params;
      const live = recorder.liveStreams().some((stream) => stream.streamSid === streamSid);
      if (!live) return forwardToOwner(request, reply, streamSid, `/api/streams/${encodeURIComponent(streamSid)}/pause`, { behavior }, 'pause', behavior);
      // Logged before it takes effect: no change goes unlogged when the trail cannot be written.
      await auditLive(request, 'pause', streamSid, behavior);
      if (!recorder.pause(streamSid, behavior)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'the call ended meanwhile');
      return { streamSid, paused: behavior };
    },
  );

  // Live listening (recording/listen-tap.ts): binary messages of 16-bit PCM per track. A call
  // another node records is relayed from that node's own listen socket (behind a round-robin
  // proxy the page reaches any node), with the same bound on a slow listener.
  app.get<{ Params: { streamSid: string } }>(
    '/api/streams/:streamSid/listen',
    {
      websocket: true,
      config: { access: 'api' },
      // Refused before the upgrade when there is no such live call anywhere.
      preValidation: async (request) => {
        if (recorder.liveStreams().some((live) => live.streamSid === request.params.streamSid)) return;
        const owner = cluster && !forwarded(request) ? await ownerElsewhere(request.params.streamSid) : undefined;
        if (!owner) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no live stream with that streamSid');
      },
    },
    async (socket, request) => {
      const { streamSid } = request.params;
      request.raw.socket.setTimeout(0); // a listener is quiet by nature; the call's end closes it
      const dropSlow = () => {
        recorder.countRejection('CALLTAPE_ERR_SLOW_CLIENT');
        socket.close(WS_CLOSE.policyViolation, 'CALLTAPE_ERR_SLOW_CLIENT');
      };
      const local = recorder.liveStreams().some((live) => live.streamSid === streamSid);
      // The client may go at any point of the relay's opening: the relay (and the listener
      // slot it holds on the recording node) goes with it, whenever that is.
      const clientGone = new AbortController();
      socket.once('close', () => clientGone.abort());
      const owner = !local && cluster && !forwarded(request) ? await ownerElsewhere(streamSid) : undefined;
      // Logged before a sample is sent; a trail that cannot be written closes the socket.
      const logged = owner
        ? await audit(catalog.audit, request, 'listen', { streamSid, recordingId: await recordingIdOf(streamSid), detail: `relayed to node ${owner}` }).catch(() => undefined)
        : await auditLive(request, 'listen', streamSid).then(() => 'here', () => undefined);
      if (!logged) return socket.close(WS_CLOSE.tryAgainLater, 'CALLTAPE_ERR_AUDIT_UNAVAILABLE');
      if (owner) {
        if (clientGone.signal.aborted) return;
        const relay = await cluster!.listenOn(owner, streamSid, clientGone.signal, logged);
        if (clientGone.signal.aborted) return relay?.terminate();
        if (!relay) return socket.close(WS_CLOSE.tryAgainLater, `node ${owner} did not answer`);
        relay.on('message', (data: Buffer, isBinary: boolean) => {
          if (socket.bufferedAmount > LISTEN_MAX_BUFFERED_BYTES) {
            relay.terminate();
            return dropSlow();
          }
          socket.send(data, { binary: isBinary });
        });
        // Close codes a peer may not send (1005, 1006) become "the far side went away".
        relay.on('close', (code: number, reason: Buffer) => socket.close(code === 1005 || code === 1006 ? WS_CLOSE.goingAway : code, reason.toString()));
        relay.on('error', () => socket.close(WS_CLOSE.goingAway, `node ${owner} went away`));
        clientGone.signal.addEventListener('abort', () => relay.terminate());
        return;
      }
      const listener: Listener = {
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        send: (message) => socket.send(message),
        drop: (reason) => (reason === 'slow' ? dropSlow() : socket.close(WS_CLOSE.normal, 'recording finished')),
      };
      // Not live any more, or as many listeners as a call takes (LISTEN_MAX_PER_CALL).
      if (!recorder.listen(streamSid, listener)) socket.close(WS_CLOSE.tryAgainLater, 'not listenable now');
      socket.on('close', () => recorder.unlisten(streamSid, listener));
      // Listeners only listen: anything they send is ignored.
    },
  );

  app.post<{ Params: { streamSid: string } }>('/api/streams/:streamSid/resume', { config: { access: 'api' } }, async (request, reply) => {
    const { streamSid } = request.params;
    const live = recorder.liveStreams().some((stream) => stream.streamSid === streamSid);
    if (!live) return forwardToOwner(request, reply, streamSid, `/api/streams/${encodeURIComponent(streamSid)}/resume`, undefined, 'resume');
    await auditLive(request, 'resume', streamSid);
    if (!recorder.resume(streamSid)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'the call ended meanwhile');
    return { streamSid, paused: null };
  });
};

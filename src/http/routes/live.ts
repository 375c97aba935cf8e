/**
 * Live views: GET /api/streams/live (calls being recorded now), GET /api/events (Server-Sent
 * Events: started, finished), and pausing a live recording:
 * POST /api/streams/:streamSid/pause {behavior: silence|skip} and /resume, and listening to a
 * live call: GET /api/streams/:streamSid/listen (WebSocket).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { CalltapeError, WS_CLOSE } from '../../errors.js';
import type { Listener } from '../../recording/listen-tap.js';
import type { Recorder } from '../../recording/recorder.js';
import type { PauseBehavior } from '../../recording/session.js';
import { recordingJson } from '../../catalog/recording-json.js';
import type { Config } from '../../config.js';
import { EventStreamHub } from '../event-stream.js';
import { redactUrl } from '../redact.js';

export const liveRoutes: FastifyPluginAsync<{ readonly recorder: Recorder; readonly catalog: Catalog; readonly config: Config }> = async (app, { recorder, catalog, config }) => {
  // ?levels=1: the caller shows level meters, so the calls' levels are measured for a while.
  const liveQuery = { type: 'object', properties: { levels: { enum: ['0', '1'] } }, additionalProperties: false } as const;
  app.get<{ Querystring: { levels?: '0' | '1' } }>('/api/streams/live', { config: { access: 'api' }, schema: { querystring: liveQuery } }, async (request) => ({
    items: recorder.liveStreams({ watchLevels: request.query.levels === '1' }).map(({ dir: _dir, ...live }) => live),
  }));

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
    async (request) => {
      // Both places are checked by the schemas: silence or skip.
      const behavior = (request.body?.behavior ?? (request.query as { behavior?: unknown }).behavior ?? 'silence') as PauseBehavior;
      if (!recorder.pause(request.params.streamSid, behavior)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no live stream with that streamSid');
      return { streamSid: request.params.streamSid, paused: behavior };
    },
  );

  // Live listening (recording/listen-tap.ts): binary messages of 16-bit PCM per track.
  app.get<{ Params: { streamSid: string } }>(
    '/api/streams/:streamSid/listen',
    {
      websocket: true,
      config: { access: 'api' },
      // Refused before the upgrade when there is no such live call.
      preValidation: async (request) => {
        if (!recorder.liveStreams().some((live) => live.streamSid === request.params.streamSid)) {
          throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no live stream with that streamSid');
        }
      },
    },
    (socket, request) => {
      const { streamSid } = request.params;
      request.raw.socket.setTimeout(0); // a listener is quiet by nature; the call's end closes it
      const listener: Listener = {
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        send: (message) => socket.send(message),
        drop: (reason) => {
          if (reason === 'slow') {
            recorder.countRejection('CALLTAPE_ERR_SLOW_CLIENT');
            socket.close(WS_CLOSE.policyViolation, 'CALLTAPE_ERR_SLOW_CLIENT');
          } else {
            socket.close(WS_CLOSE.normal, 'recording finished');
          }
        },
      };
      // Not live any more, or as many listeners as a call takes (LISTEN_MAX_PER_CALL).
      if (!recorder.listen(streamSid, listener)) socket.close(WS_CLOSE.tryAgainLater, 'not listenable now');
      socket.on('close', () => recorder.unlisten(streamSid, listener));
      // Listeners only listen: anything they send is ignored.
    },
  );

  app.post<{ Params: { streamSid: string } }>('/api/streams/:streamSid/resume', { config: { access: 'api' } }, async (request) => {
    if (!recorder.resume(request.params.streamSid)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no live stream with that streamSid');
    return { streamSid: request.params.streamSid, paused: null };
  });
};

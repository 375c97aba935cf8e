/**
 * Live views: GET /api/streams/live (calls being recorded now), GET /api/events (Server-Sent
 * Events: started, finished), and pausing a live recording:
 * POST /api/streams/:streamSid/pause {behavior: silence|skip} and /resume.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { CalltapeError } from '../../errors.js';
import type { Recorder } from '../../recording/recorder.js';
import type { PauseBehavior } from '../../recording/session.js';
import { recordingJson } from '../../catalog/recording-json.js';
import type { Config } from '../../config.js';
import { EventStreamHub } from '../event-stream.js';
import { redactUrl } from '../redact.js';

export const liveRoutes: FastifyPluginAsync<{ readonly recorder: Recorder; readonly catalog: Catalog; readonly config: Config }> = async (app, { recorder, catalog, config }) => {
  app.get('/api/streams/live', { config: { access: 'api' } }, async () => ({ items: recorder.liveStreams().map(({ dir: _dir, ...live }) => live) }));

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

  app.post<{ Params: { streamSid: string } }>('/api/streams/:streamSid/resume', { config: { access: 'api' } }, async (request) => {
    if (!recorder.resume(request.params.streamSid)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no live stream with that streamSid');
    return { streamSid: request.params.streamSid, paused: null };
  });
};

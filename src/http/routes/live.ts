/**
 * Live views: GET /api/streams/live (calls being recorded now), GET /api/events (Server-Sent
 * Events: started, finished), and pausing a live recording:
 * POST /api/streams/:streamSid/pause {behavior: silence|skip} and /resume.
 */
import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../../catalog/catalog.js';
import type { Recording } from '../../catalog/recordings.js';
import { CalltapeError } from '../../errors.js';
import type { Recorder } from '../../recording/recorder.js';
import type { PauseBehavior } from '../../recording/session.js';
import { recordingJson } from '../../catalog/recording-json.js';

/** A comment line every so often keeps proxies from closing an idle event stream. */
const SSE_HEARTBEAT_MS = 15_000;

export function liveRoutes(app: FastifyInstance, recorder: Recorder, catalog: Catalog): void {
  app.get('/api/streams/live', { config: { access: 'api' } }, async () => ({ items: recorder.liveStreams().map(({ dir: _dir, ...live }) => live) }));

  app.get('/api/events', { config: { access: 'api', apiTokenInQuery: true } }, (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': calltape events\n\n');
    const send = (event: string) => (recording: Recording) => {
      res.write(`event: ${event}\nid: ${recording.id}\ndata: ${JSON.stringify(recordingJson(recording))}\n\n`);
    };
    const onStarted = send('started');
    const onFinished = send('finished');
    catalog.on('recording.started', onStarted);
    catalog.on('recording.finished', onFinished);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    heartbeat.unref();
    request.raw.on('close', () => {
      clearInterval(heartbeat);
      catalog.off('recording.started', onStarted);
      catalog.off('recording.finished', onFinished);
    });
  });

  app.post<{ Params: { streamSid: string }; Body: { behavior?: unknown } | undefined }>('/api/streams/:streamSid/pause', { config: { access: 'api' } }, async (request) => {
    const behavior = (request.body?.behavior ?? (request.query as { behavior?: unknown }).behavior ?? 'silence') as PauseBehavior;
    if (behavior !== 'silence' && behavior !== 'skip') throw new CalltapeError('CALLTAPE_ERR_BAD_REQUEST', 'behavior must be silence or skip');
    if (!recorder.pause(request.params.streamSid, behavior)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no live stream with that streamSid');
    return { streamSid: request.params.streamSid, paused: behavior };
  });

  app.post<{ Params: { streamSid: string } }>('/api/streams/:streamSid/resume', { config: { access: 'api' } }, async (request) => {
    if (!recorder.resume(request.params.streamSid)) throw new CalltapeError('CALLTAPE_ERR_NOT_FOUND', 'no live stream with that streamSid');
    return { streamSid: request.params.streamSid, paused: null };
  });
}

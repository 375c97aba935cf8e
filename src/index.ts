/**
 * calltape as a library: the recording engine, embeddable in an existing WebSocket server.
 *
 *   const recorder = createRecorder({ dataDir: './data' });
 *   wss.on('connection', (ws) => {
 *     const stream = recorder.openStream('twilio', { close: (code, reason) => ws.close(code, reason) });
 *     ws.on('message', (data, isBinary) => stream.frame(data as Buffer, isBinary));
 *     ws.on('close', (code, reason) => stream.closed(code, reason.toString()));
 *   });
 *
 * The HTTP server (catalog, REST API, webhooks) is `calltape/server`; this entry loads none
 * of it.
 */
export { createRecorder, Recorder } from './recording/recorder.js';
export type { RecorderOptions, StreamHandle, OpenStreamOptions, LiveStream, RecorderStats, RecorderEvents } from './recording/recorder.js';
export type { TransportHooks, StreamOptions, PauseBehavior, RecordingStarted } from './recording/session.js';
export type { RecordingMeta, TrackMeta, StereoMeta, DtmfMeta, MarkMeta, PauseMeta, NoticeMeta, EndReason } from './recording/meta.js';
export type { ConnectionInfo } from './events.js';
export { loadConfig, configSchema, ENV_NAMES, ConfigError } from './config.js';
export type { Config, ConfigInput } from './config.js';
export { ERRORS, CalltapeError, WS_CLOSE } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { ProviderName } from './providers/registry.js';
export { PROVIDER_NAMES } from './providers/registry.js';

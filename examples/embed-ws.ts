/**
 * Embedding calltape in your own WebSocket server (for example, a voice agent that already
 * accepts Twilio's <Connect><Stream>): hand the recorder each frame and the close, and it
 * writes the same files `calltape serve` does.
 *
 *   npx tsx examples/embed-ws.ts      (or compile it with the rest of your app)
 */
import { WebSocketServer } from 'ws';
import { createRecorder } from 'calltape';

export function startEmbeddedRecorder(port: number, dataDir: string) {
  const recorder = createRecorder({ dataDir, logLevel: 'warn' });
  const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: recorder.config.maxPayloadBytes });

  wss.on('connection', (ws) => {
    // pause/resume: the recorder stops reading a stream whose files are more than 1 MiB behind.
    const stream = recorder.openStream('twilio', {
      close: (code, reason) => ws.close(code, reason),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
    });
    ws.on('message', (data, isBinary) => {
      stream.frame(data as Buffer, isBinary);
      // ...your own handling of the same frame (speech-to-text, the bot) goes here.
    });
    ws.on('error', (err) => stream.transportError(err));
    ws.on('close', (code, reason) => void stream.closed(code, reason.toString()));
  });

  recorder.on('recording.finished', (meta) => {
    console.log(`recorded ${meta.callSid}: ${meta.durationMs} ms, ${meta.endReason}`);
  });

  return {
    recorder,
    wss,
    /** Finish open recordings, then stop accepting sockets. */
    async stop() {
      await recorder.shutdown();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = startEmbeddedRecorder(Number(process.env.PORT ?? 8080), process.env.CALLTAPE_DATA_DIR ?? './data');
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
}

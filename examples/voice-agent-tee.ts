/**
 * A voice agent on Twilio's <Connect><Stream> that records both sides of the call. Twilio
 * streams only the caller on a bidirectional stream; what the caller hears is what the agent
 * sends back. Opening the stream with `tee: true` and handing calltape every frame the agent
 * sends (stream.sent) records the bot as the outbound track, the way the caller heard it:
 * queued audio plays back to back, and a `clear` (barge-in) cuts it where the caller was.
 *
 * This agent greets the caller with a clip and stops talking when the caller presses a key.
 *
 *   npx tsx examples/voice-agent-tee.ts      (greeting: 8 kHz mu-law in GREETING_ULAW)
 */
import fs from 'node:fs';
import { WebSocketServer } from 'ws';
import { createRecorder } from 'calltape';

export function startVoiceAgent(port: number, dataDir: string, greetingMulaw: Buffer) {
  const recorder = createRecorder({ dataDir, logLevel: 'warn' });
  const wss = new WebSocketServer({ host: '127.0.0.1', port, maxPayload: recorder.config.maxPayloadBytes });

  wss.on('connection', (ws) => {
    const stream = recorder.openStream('twilio', { close: (code, reason) => ws.close(code, reason) }, { tee: true });
    // Everything the agent says goes through here: to Twilio, and to the recording.
    const say = (message: object) => {
      const text = JSON.stringify(message);
      ws.send(text);
      stream.sent(text);
    };
    ws.on('message', (data, isBinary) => {
      stream.frame(data as Buffer, isBinary);
      if (isBinary) return;
      const msg = JSON.parse(data.toString()) as { event: string; streamSid?: string };
      if (msg.event === 'start') greet(say, msg.streamSid!, greetingMulaw);
      // Barge-in: the caller pressed a key, so stop talking.
      if (msg.event === 'dtmf') say({ event: 'clear', streamSid: msg.streamSid });
    });
    ws.on('error', (err) => stream.transportError(err));
    ws.on('close', (code, reason) => void stream.closed(code, reason.toString()));
  });

  return {
    recorder,
    wss,
    async stop() {
      await recorder.shutdown();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Queues the whole greeting at once, as a TTS reply usually arrives, then a mark. */
function greet(say: (message: object) => void, streamSid: string, audio: Buffer): void {
  for (let offset = 0; offset < audio.length; offset += 160) {
    say({ event: 'media', streamSid, media: { payload: audio.subarray(offset, offset + 160).toString('base64') } });
  }
  say({ event: 'mark', streamSid, mark: { name: 'greeting-end' } });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const greeting = fs.readFileSync(process.env.GREETING_ULAW ?? 'greeting.ulaw');
  const agent = startVoiceAgent(Number(process.env.PORT ?? 8080), process.env.CALLTAPE_DATA_DIR ?? './data', greeting);
  process.on('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
}

// The baseline: a bare `ws` server that accepts frames and parses nothing.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 });
let frames = 0;
wss.on('connection', (ws) => {
  ws.on('message', () => {
    frames++;
  });
});
wss.on('listening', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${wss.address().port}`, msg: 'sink listening' })}\n`);
});
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ frames })}\n`);
  wss.close(() => process.exit(0));
});

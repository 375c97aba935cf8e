// The bench's per-stream memory probe: calltape (a build's dist/, as `calltape serve` runs
// it) or the bare sink, in this process, started with --expose-gc, so the bench can hold N
// streams open against it and ask for the heap and RSS after a full collection, away from
// the generator's timing. Answers on the IPC channel: {idle|measure} -> process memory after GC.
//   node --expose-gc --max-semi-space-size=4 bench/memory-probe.mjs <root> <calltape|sink>
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';

const [root, kind] = process.argv.slice(2);
let url;
if (kind === 'calltape') {
  const { startServer } = await import(pathToFileURL(path.join(root, 'dist/server.js')).href);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-bench-probe-'));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', maxStreams: 100000, realtimeAllowanceMs: 3600_000 });
  url = `${server.url.replace('http', 'ws')}/streams/twilio`;
} else {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 });
  wss.on('connection', (ws) => ws.on('message', () => undefined));
  await new Promise((resolve) => wss.on('listening', resolve));
  url = `ws://127.0.0.1:${wss.address().port}/`;
}

function settled() {
  // Twice: what the first collection freed lets finalizers run and the second take the rest.
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

process.on('message', (message) => {
  if (message === 'measure') setTimeout(() => process.send(settled()), 50);
  if (message === 'exit') process.exit(0);
});
process.send({ url });

// A stand-in OpenAI-compatible speech-to-text server for the bench's pipeline phase: it reads
// each request whole and answers a fixed verbose_json transcription after a fixed latency
// (STUB_LATENCY_MS), so the pipeline's throughput is measured against a known server.
import http from 'node:http';

const latencyMs = Number(process.env.STUB_LATENCY_MS ?? 200);
let requests = 0;
let bytes = 0;
const answer = JSON.stringify({
  task: 'transcribe',
  language: 'english',
  duration: 1,
  text: 'hello, I would like a refund of the card charge',
  words: [{ word: 'hello', start: 0.1, end: 0.4 }],
  segments: [{ id: 0, seek: 0, start: 0.1, end: 2.5, text: ' hello, I would like a refund of the card charge', tokens: [], temperature: 0, avg_logprob: -0.2, compression_ratio: 1.2, no_speech_prob: 0.01 }],
});
const server = http.createServer((req, res) => {
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => {
    requests++;
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(answer), latencyMs);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/v1`, msg: 'stt stub listening' })}\n`);
});
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ requests, bytes })}\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

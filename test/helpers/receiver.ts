/** A real HTTP server that records the webhooks it receives and answers as scripted. */
import http from 'node:http';
import { listenOnLoopback } from './loopback.js';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  answeredWith: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

/**
 * `answers` are used in order, then 200 forever; `delayMs` holds each answer back;
 * `retryAfter` is sent with every answer that is not 2xx.
 */
export async function startReceiver(opts: { answers?: number[]; port?: number; delayMs?: number; retryAfter?: string } = {}): Promise<Receiver> {
  const answers = [...(opts.answers ?? [])];
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answeredWith: status });
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (opts.retryAfter !== undefined && (status < 200 || status >= 300)) headers['retry-after'] = opts.retryAfter;
      setTimeout(() => res.writeHead(status, headers).end(String(status)), opts.delayMs ?? 0);
    });
  });
  const { port, close } = await listenOnLoopback(server, opts.port);
  return { url: `http://127.0.0.1:${port}/hooks/calltape`, port, received, close };
}

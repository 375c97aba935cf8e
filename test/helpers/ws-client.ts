/** A real `ws` client on a real port. */
import WebSocket from 'ws';

export interface Closed {
  code: number;
  reason: string;
}

export async function openSocket(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
  });
  return ws;
}

export function whenClosed(ws: WebSocket): Promise<Closed> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: '' });
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Sends each frame (string: text frame, Buffer: binary frame), waiting for the socket buffer to drain. */
export async function sendAll(ws: WebSocket, frames: Array<string | Buffer>): Promise<void> {
  for (const frame of frames) {
    await new Promise<void>((resolve, reject) => ws.send(frame, { binary: Buffer.isBuffer(frame) }, (err) => (err ? reject(err) : resolve())));
  }
}

/** Sends a whole session and closes the socket normally once the server has it all. */
export async function streamSession(url: string, frames: Array<string | Buffer>): Promise<Closed> {
  const ws = await openSocket(url);
  const closed = whenClosed(ws);
  await sendAll(ws, frames);
  ws.close(1000, 'done');
  return closed;
}

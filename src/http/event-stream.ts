/**
 * Server-Sent Events clients of one event source. One listener on the source fans out to
 * every client (not one listener per client), and a client that does not read what it is
 * sent is dropped once maxBufferedBytes are waiting for it: memory does not grow with slow
 * readers. Every stream ends when the server closes.
 */
import type { ServerResponse } from 'node:http';

export interface EventStreamOptions {
  /** Bytes waiting in a client's response buffer past which it is dropped. */
  readonly maxBufferedBytes: number;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  readonly heartbeatMs: number;
  /** Told when a client is dropped for not reading. */
  readonly onSlowClient: () => void;
}

export class EventStreamHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: EventStreamOptions) {
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over a response: writes the event-stream head and keeps it until either side ends. */
  add(res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': calltape events\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  send(event: string, id: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.write(`event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends every stream (shutdown): clients see a clean end and may reconnect elsewhere. */
  closeAll(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private write(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.options.maxBufferedBytes) {
        this.clients.delete(res);
        res.destroy();
        this.options.onSlowClient();
        continue;
      }
      res.write(text);
    }
  }
}

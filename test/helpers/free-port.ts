/**
 * A TCP port free on 127.0.0.1 right now (for servers whose port must be known before they
 * start: a node behind nginx, a PostgreSQL, a restarted process that must come back where it was).
 *
 * Not a port the kernel picks (`listen(0)`): those come from the ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range, 32768–60999 on Linux), which every outgoing
 * connection of every test worker also draws from, so a port freed here can be some client
 * socket's local port a moment later and the server then fails with EADDRINUSE (it did, on
 * CI). Ports are drawn instead below that range, from a band of its own for each vitest worker,
 * and never handed out twice by one process.
 */
import net from 'node:net';

const BAND_SIZE = 1200;
const FIRST_PORT = 20000;
const BANDS = 10;
const handedOut = new Set<number>();

function band(): number {
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 0);
  return FIRST_PORT + ((Number.isFinite(worker) ? worker : process.pid) % BANDS) * BAND_SIZE;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const start = band();
  for (let attempt = 0; attempt < BAND_SIZE; attempt++) {
    const port = start + Math.floor(Math.random() * BAND_SIZE);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${start}–${start + BAND_SIZE - 1}`);
}

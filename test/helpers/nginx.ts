/**
 * Debian's nginx in front of calltape nodes, as a deployment runs it: round-robin over the
 * nodes, WebSocket upgrade passed through, long read timeouts for streams. Started by the
 * test with its own prefix directory and config (.ci/run installs nginx when missing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

export const NGINX = process.env.CALLTAPE_NGINX ?? '/usr/sbin/nginx';

export interface TestNginx {
  readonly url: string;
  stop(): Promise<void>;
}

/** The config a deployment would use (README "Running several nodes"), with test paths. */
export function nginxConfig(prefix: string, listenPort: number, nodePorts: number[]): string {
  return `worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream calltape {
${nodePorts.map((port) => `    server 127.0.0.1:${port} max_fails=0;`).join('\n')}
  }
  server {
    listen 127.0.0.1:${listenPort};
    client_max_body_size 1m;
    location / {
      proxy_pass http://calltape;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;
    }
  }
}
`;
}

export async function startNginx(nodePorts: number[]): Promise<TestNginx> {
  if (!fs.existsSync(NGINX)) throw new Error(`the scale-out tests need Debian's nginx at ${NGINX}: apt-get install -y nginx (.ci/run does), or set CALLTAPE_NGINX`);
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-nginx-'));
  // Workers may run as an unprivileged user when the tests run as root.
  fs.chmodSync(prefix, 0o777);
  const port = await freePort();
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), nginxConfig(prefix, port, nodePorts));
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}${fs.existsSync(path.join(prefix, 'error.log')) ? fs.readFileSync(path.join(prefix, 'error.log'), 'utf8') : ''}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url,
    async stop() {
      child.kill('SIGQUIT');
      await exited;
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}

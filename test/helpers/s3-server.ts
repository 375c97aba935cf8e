/**
 * A real S3-protocol server for the storage tests: s3rver (the npm package, a Koa server
 * that stores objects on disk and speaks S3's REST protocol, multipart included) on
 * 127.0.0.1, with a TCP proxy in front that can refuse every connection for a while (a
 * bucket that is down) and counts the requests that pass.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error: s3rver ships no type declarations
import S3rver from 's3rver';

export interface TestS3 {
  /** The proxy's URL: what the store under test is given as its endpoint. */
  readonly endpoint: string;
  readonly bucket: string;
  /** While true, every new connection is reset at once and open ones are cut. */
  down: boolean;
  /** When set, what clients send reaches the bucket at this many bytes a second (a slow link). */
  uploadBytesPerSecond: number | undefined;
  /** Text of every request line that went through (method and target). */
  readonly requests: string[];
  /** Fixed credentials s3rver accepts. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/** The SDK's standard credential chain set for `s3`, as a deployment would set it. */
export function useS3Credentials(s3: TestS3): void {
  process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
  process.env.AWS_REGION = 'us-east-1';
}

export async function startTestS3(bucket = 'calltape-test'): Promise<TestS3> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'calltape-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = (await server.run()) as { port: number };
  const sockets = new Set<net.Socket>();
  const state: TestS3 = {
    endpoint: '',
    bucket,
    down: false,
    uploadBytesPerSecond: undefined,
    requests: [],
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
  const proxy = net.createServer((client) => {
    if (state.down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (state.down) {
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      for (const match of chunk.toString('latin1').matchAll(/(?:^|\r\n)((?:GET|PUT|POST|HEAD|DELETE) \S+) HTTP\/1\.1\r\n/g)) state.requests.push(match[1]!);
      const rate = state.uploadBytesPerSecond;
      if (rate === undefined) {
        upstream.write(chunk);
        return;
      }
      // The slow link: this chunk takes its time, and the client waits for it.
      client.pause();
      setTimeout(() => {
        upstream.write(chunk);
        client.resume();
      }, (chunk.length / rate) * 1000);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  (state as { endpoint: string }).endpoint = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  return state;
}

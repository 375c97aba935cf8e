/**
 * `calltape signing-key` and `calltape verify <recording id | dir>`: the public half of
 * CALLTAPE_SIGNING_KEY in minisign's format (for `minisign -V -p calltape.pub -m
 * manifest.json`), and a recording checked against its signed manifest: the signature,
 * then every file's size and SHA-256, naming each that differs. A directory is read here;
 * an id through the server's API (GET /api/recordings/:id/files/:name), from its disk or
 * its bucket. Exit 0 when everything matches, 1 when something differs, 2 for a bad setting.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ConfigError, loadConfig } from '../config.js';
import { hashFile, verifyManifest, type VerifyResult } from '../custody/manifest.js';
import { minisignPublicKey, parsePublicKey, SigningKeyError, type PublicKey } from '../custody/minisign.js';
import { readSigningKey } from '../custody/signing-settings.js';
import { serverOf, type ServerFlags } from './step-job.js';

export interface VerifyFlags extends Omit<ServerFlags, 'timeout'> {
  publicKey?: string;
}

function signingKeyFile(file: string | undefined): string {
  const chosen = file ?? loadConfig({}, process.env, {}).signingKey;
  if (!chosen) throw new ConfigError('give the signing key: --key <file> or CALLTAPE_SIGNING_KEY (an Ed25519 private key in PKCS#8 PEM)');
  return chosen;
}

export function runSigningKeyCommand(flags: { key?: string }): number {
  const key = readSigningKey(signingKeyFile(flags.key))!;
  process.stdout.write(minisignPublicKey(key));
  return 0;
}

function publicKeyOf(flags: VerifyFlags): PublicKey {
  if (flags.publicKey !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(flags.publicKey, 'utf8');
    } catch (err) {
      throw new ConfigError(`--public-key ${flags.publicKey} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      return parsePublicKey(text);
    } catch (err) {
      throw new ConfigError(`--public-key ${flags.publicKey}: ${(err as SigningKeyError).message}`);
    }
  }
  return readSigningKey(signingKeyFile(undefined))!;
}

async function fromDirectory(key: PublicKey, dir: string): Promise<VerifyResult> {
  const inDir = (name: string) => {
    // Names come from the signed manifest, but are checked all the same: one file of this directory.
    if (path.basename(name) !== name) throw new Error(`the manifest names ${JSON.stringify(name)}, which is not a file of the recording's directory`);
    return path.join(dir, name);
  };
  return verifyManifest(
    key,
    async (name) => fs.promises.readFile(inDir(name)).catch(() => undefined),
    async (name) => (fs.existsSync(inDir(name)) ? hashFile(inDir(name)) : undefined),
  );
}

async function fromServer(key: PublicKey, id: string, flags: VerifyFlags): Promise<VerifyResult> {
  const { base, headers } = serverOf(flags);
  const url = (name: string) => `${base}/api/recordings/${encodeURIComponent(id)}/files/${encodeURIComponent(name)}`;
  const get = async (name: string) => {
    let response: Response;
    try {
      response = await fetch(url(name), { headers, signal: AbortSignal.timeout(600_000) });
    } catch (err) {
      throw new Error(`${base} could not be reached (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}): is calltape running there? (--url)`);
    }
    if (response.status === 404) {
      const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
      if (/no recording/.test(body.error?.message ?? '')) throw new Error(`no recording ${id} on ${base}`);
      return undefined;
    }
    if (!response.ok || !response.body) throw new Error(`${url(name)} answered ${response.status}`);
    return response;
  };
  return verifyManifest(
    key,
    async (name) => {
      const response = await get(name);
      return response ? Buffer.from(await response.arrayBuffer()) : undefined;
    },
    async (name) => {
      const response = await get(name);
      if (!response) return undefined;
      const hash = crypto.createHash('sha256');
      let bytes = 0;
      for await (const chunk of Readable.fromWeb(response.body! as import('node:stream/web').ReadableStream<Uint8Array>) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      return { bytes, sha256: hash.digest('hex') };
    },
  );
}

export async function runVerifyCommand(target: string, flags: VerifyFlags): Promise<number> {
  const key = publicKeyOf(flags);
  const isDir = fs.existsSync(target) && fs.statSync(target).isDirectory();
  let result: VerifyResult;
  try {
    result = isDir ? await fromDirectory(key, path.resolve(target)) : await fromServer(key, target, flags);
  } catch (err) {
    process.stderr.write(`calltape: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  if (result.problems.length > 0) {
    process.stdout.write(`${target}: NOT verified\n${result.problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }
  const m = result.manifest!;
  process.stdout.write(`${target}: verified: ${m.files.length} files as signed (${m.recording.streamSid}, manifest of ${m.createdAt}, calltape ${m.calltape})\n  trusted comment: ${result.trustedComment}\n`);
  return 0;
}

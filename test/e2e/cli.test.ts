/**
 * The command line as an operator meets it: a version, one-line configuration errors that
 * name the variable or flag, the value and what is allowed (exit 2, no stack trace),
 * warnings for misspelt variables, a config file, readable logs on request, and `simulate`
 * taking WAV files as ffmpeg writes them.
 */
import { spawn, spawnSync } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { progressLine, formatSummary } from '../../src/cli/simulate.js';
import { loadMulaw } from '../../src/simulate/audio.js';
import { FFMPEG } from '../helpers/ffmpeg.js';
import { SPEECH_IN_ULAW } from '../helpers/fixtures.js';
import { spawnCalltape } from '../helpers/process.js';
import { tempDataDir } from '../helpers/recordings.js';
import { mediaFrames, newTwilioCall, TwilioFrameWriter } from '../helpers/twilio-frames.js';
import { openSocket, sendAll, whenClosed } from '../helpers/ws-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');

/** Runs the CLI to its end (a bad configuration ends it at once). */
function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [MAIN, ...args], { env: { ...process.env, CALLTAPE_LOG_LEVEL: 'warn', ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stderr: result.stderr, stdout: result.stdout };
}

function expectOneLineError(result: ReturnType<typeof run>, pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('calltape command line', () => {
  it('--version prints the package version', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(run(['--version']).stdout.trim()).toBe(version);
  });

  it('a bad value names the variable or flag, the value and what is allowed', () => {
    const dataDir = tempDataDir();
    expectOneLineError(run(['serve', '--data-dir', dataDir], { PORT: 'abc' }), /^calltape: PORT="abc" is not valid: expected an integer from 0 to 65535$/);
    expectOneLineError(run(['serve', '--data-dir', dataDir, '--port', '99999']), /^calltape: --port="99999" is not valid: expected an integer from 0 to 65535$/);
    expectOneLineError(run(['serve', '--data-dir', dataDir], { CALLTAPE_FORMAT: 'mp3' }), /^calltape: CALLTAPE_FORMAT="mp3" is not valid: expected one of pcm16, mulaw$/);
    // The new platforms' settings, each refused in one line that never echoes a secret.
    expectOneLineError(run(['serve', '--data-dir', dataDir], { CALLTAPE_GENESYS_API_KEY: 'k', CALLTAPE_GENESYS_CLIENT_SECRET: 'not base64!' }), /^calltape: CALLTAPE_GENESYS_CLIENT_SECRET=\(value hidden\) is not valid: expected base64 of 16 bytes or more/);
    expectOneLineError(run(['serve', '--data-dir', dataDir], { CALLTAPE_GENESYS_CLIENT_SECRET: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' }), /^calltape: CALLTAPE_GENESYS_CLIENT_SECRET needs CALLTAPE_GENESYS_API_KEY/);
    expectOneLineError(run(['serve', '--data-dir', dataDir], { CALLTAPE_ACS_JWKS_URL: 'ftp://keys.example' }), /^calltape: CALLTAPE_ACS_JWKS_URL="ftp:\/\/keys.example" is not valid/);
    expectOneLineError(run(['serve', '--data-dir', dataDir], { CALLTAPE_RECORD_STEREO: 'maybe' }), /CALLTAPE_RECORD_STEREO="maybe" is not valid: expected true or false/);
    expectOneLineError(run(['serve', '--data-dir', dataDir], { CALLTAPE_ARCHIVE_FORMATS: 'flac,wav' }), /^calltape: CALLTAPE_ARCHIVE_FORMATS="flac,wav" is not valid: expected a comma list of flac, opus, mp3 \("wav" is none of them\)$/);
    // Removing the WAVs with no archive to keep would leave recordings with nothing to play.
    expectOneLineError(run(['serve', '--data-dir', dataDir], { CALLTAPE_KEEP_WAV: 'false' }), /^calltape: CALLTAPE_KEEP_WAV=false removes the WAVs once their archives are verified, but no archive is made: set CALLTAPE_ARCHIVE_FORMATS/);
    // A secret's value is never echoed.
    const secret = run(['serve', '--data-dir', dataDir], { CALLTAPE_STREAM_TOKEN_SECRET: 'short' });
    expectOneLineError(secret, /CALLTAPE_STREAM_TOKEN_SECRET=\(value hidden\) is not valid: expected at least 16 characters/);
    expect(secret.stderr).not.toContain('short');
    // An API token setting that holds no token would refuse every request, silently.
    expectOneLineError(run(['serve', '--data-dir', dataDir], { CALLTAPE_API_TOKEN: ' , ' }), /CALLTAPE_API_TOKEN=\(value hidden\) is not valid: expected at least one token \(comma-separated\)$/);
  });

  it('a data dir that is a file, a port in use and a missing audio file are one-line errors too', async () => {
    const file = path.join(tempDataDir(), 'not-a-dir');
    fs.writeFileSync(file, 'x');
    expectOneLineError(run(['serve', '--data-dir', file, '--port', '0']), /data dir ".*not-a-dir" \(CALLTAPE_DATA_DIR \/ --data-dir\) is not a directory/);
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      expectOneLineError(run(['serve', '--data-dir', tempDataDir(), '--port', String(port)]), new RegExp(`port ${port} on 127.0.0.1 is in use \\(PORT / --port\\)`));
    } finally {
      busy.close();
    }
    expectOneLineError(run(['simulate', '--inbound', '/nonexistent/in.wav', '--fast']), /^calltape: --inbound="\/nonexistent\/in.wav" cannot be read \(ENOENT\)$/);
  });

  it('warns about CALLTAPE_* variables nobody reads, with the nearest known name', async () => {
    const proc = spawnCalltape(tempDataDir(), { CALLTAPE_MAX_STREAM: '5' });
    await proc.url;
    proc.child.kill('SIGTERM');
    await proc.exited;
    const warning = proc.logs.find((l) => l.variable === 'CALLTAPE_MAX_STREAM');
    expect(warning).toMatchObject({ suggestion: 'CALLTAPE_MAX_STREAMS', msg: 'CALLTAPE_MAX_STREAM is not a calltape setting and is ignored (did you mean CALLTAPE_MAX_STREAMS?)' });
  });

  it('warns about near misses of the credential names it reads without the prefix, and not about other programs\' variables', async () => {
    const proc = spawnCalltape(tempDataDir(), { TWILIO_AUTH_TOKN: 'x', TWILIO_ACCOUNT_SID: 'AC1', HOME: '/root', SORT: 'x' });
    await proc.url;
    proc.child.kill('SIGTERM');
    await proc.exited;
    expect(proc.logs.find((l) => l.variable === 'TWILIO_AUTH_TOKN')).toMatchObject({ suggestion: 'TWILIO_AUTH_TOKEN', msg: 'TWILIO_AUTH_TOKN is not a calltape setting and is ignored (did you mean TWILIO_AUTH_TOKEN?)' });
    expect(proc.logs.filter((l) => typeof l.variable === 'string' && !String(l.variable).startsWith('CALLTAPE_')).map((l) => l.variable)).toEqual(['TWILIO_AUTH_TOKN']);
  });

  it('warns at start-up about a short API token, and about trusting every proxy hop without a token', async () => {
    const weak = spawnCalltape(tempDataDir(), { CALLTAPE_API_TOKEN: 'long-enough-token-0123456789,short' });
    await weak.url;
    weak.child.kill('SIGTERM');
    await weak.exited;
    // Named by the credential's name, never by the token.
    expect(weak.logs.find((l) => String(l.msg).startsWith('an API token of fewer than 16 characters'))).toMatchObject({ credentials: ['api-token-2'] });
    expect(JSON.stringify(weak.logs)).not.toContain('long-enough-token-0123456789');
    const trusting = spawnCalltape(tempDataDir(), { CALLTAPE_TRUST_PROXY: 'true' });
    await trusting.url;
    trusting.child.kill('SIGTERM');
    await trusting.exited;
    expect(trusting.logs.some((l) => String(l.msg).startsWith('CALLTAPE_TRUST_PROXY=true believes every hop'))).toBe(true);
  });

  it('reads a config file under the environment and flags, and refuses unknown keys in it', async () => {
    const dir = tempDataDir();
    const config = path.join(dir, 'calltape.json');
    fs.writeFileSync(config, JSON.stringify({ maxStreams: 7, format: 'mulaw' }));
    const proc = spawnCalltape(tempDataDir(), { CALLTAPE_CONFIG: config, CALLTAPE_FORMAT: 'pcm16' });
    await proc.url;
    proc.child.kill('SIGTERM');
    await proc.exited;
    expect(proc.logs.find((l) => String(l.msg).startsWith('calltape listening'))).toMatchObject({ format: 'pcm16' });
    fs.writeFileSync(config, JSON.stringify({ maxStream: 7 }));
    expectOneLineError(run(['serve', '--config', config, '--data-dir', dir]), /calltape\.json: unknown option "maxStream" \(did you mean "maxStreams"\?\)/);
    fs.writeFileSync(config, JSON.stringify({ maxStreams: 'many' }));
    expectOneLineError(run(['serve', '--config', config, '--data-dir', dir]), /calltape\.json: maxStreams="many" is not valid: expected an integer from 1 to 1000000/);
  });

  it('CALLTAPE_LOG_FORMAT=pretty writes readable lines instead of JSON', async () => {
    const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data-dir', tempDataDir()], {
      env: { ...process.env, CALLTAPE_LOG_FORMAT: 'pretty', CALLTAPE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const listening = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).on('line', (line) => line.includes('calltape listening on') && resolve(line));
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(listening).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: calltape listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(() => JSON.parse(listening)).toThrow();
  });
});

describe('Ctrl-C with live calls', () => {
  it("logs the provider's frames still in flight after the recording ended at debug, not as warnings", async () => {
    const proc = spawnCalltape(tempDataDir(), { CALLTAPE_LOG_LEVEL: 'debug' });
    const url = await proc.url;
    const call = newTwilioCall();
    const writer = new TwilioFrameWriter(call);
    const ws = await openSocket(`${url.replace('http', 'ws')}/streams/twilio`);
    const closed = whenClosed(ws);
    // Ten times the speech (65 s at most): the pump must still be sending when the signal
    // lands however slow this machine is, or no frame is in flight to check.
    const frames = mediaFrames('inbound', Buffer.concat(Array.from({ length: 10 }, () => SPEECH_IN_ULAW)));
    let next = 0;
    await sendAll(ws, [writer.connected(), writer.start({ tracks: ['inbound'] }), ...frames.slice(0, 50).map((f) => writer.media(f))]);
    next = 50;
    // The provider keeps sending, as it does until the socket closes.
    const pump = setInterval(() => {
      for (let i = 0; i < 5 && next < frames.length && ws.readyState === ws.OPEN; i++) ws.send(writer.media(frames[next++]!));
    }, 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    proc.child.kill('SIGINT');
    expect(await closed).toMatchObject({ code: 1001 });
    clearInterval(pump);
    expect((await proc.exited).code).toBe(0);
    const afterStop = proc.logs.filter((l) => l.code === 'CALLTAPE_ERR_AFTER_STOP');
    expect(afterStop.length).toBeGreaterThan(0);
    // pino's levels: 20 debug, 40 warn.
    expect(afterStop.map((l) => l.level)).toEqual(afterStop.map(() => 20));
  });
});

describe('calltape simulate', () => {
  it('reads WAV files with extra chunks, as ffmpeg writes them', () => {
    const dir = tempDataDir();
    const raw = path.join(dir, 'in.ulaw');
    fs.writeFileSync(raw, SPEECH_IN_ULAW);
    for (const [name, codec] of [['pcm.wav', 'pcm_s16le'], ['mulaw.wav', 'pcm_mulaw']] as const) {
      const wav = path.join(dir, name);
      const made = spawnSync(FFMPEG, ['-v', 'error', '-y', '-f', 'mulaw', '-ar', '8000', '-ac', '1', '-i', raw, '-metadata', 'title=calltape', '-c:a', codec, wav]);
      expect(made.status).toBe(0);
      expect(fs.readFileSync(wav).includes('LIST')).toBe(true);
      // mu-law through PCM and back is exact for G.711's table.
      expect(loadMulaw(wav).equals(SPEECH_IN_ULAW), name).toBe(true);
    }
  });

  it('draws its progress on one line no wider than the terminal, and says why there is no lag', () => {
    const progress = { calls: 1000, connecting: 12, streaming: 950, callsDone: 38, framesSent: 123_456, framesTotal: 3_000_000, secondsLeft: 27 };
    for (const columns of [40, 60, 80, 120, 200]) {
      const line = progressLine(progress, columns);
      expect(line.length, String(columns)).toBeLessThan(columns);
      expect(line).not.toContain('\n');
    }
    expect(progressLine(progress, 200)).toMatch(/^\[#*\.+\] 38\/1000 done, 950 streaming, 12 connecting \| 123456\/3000000 frames \| 27 s left$/);
    const failed = { calls: 2, ok: 0, failed: 2, framesSent: 0, wallMs: 10, realtime: true, lagMs: null, results: [] };
    expect(formatSummary(failed)).toContain('sender lag: n/a (no call streamed)');
    expect(formatSummary({ ...failed, realtime: false })).toContain('sender lag: n/a (fast mode)');
  });
});

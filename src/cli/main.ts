#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * (The young generation is capped at 4 MiB per semi-space, as `npm start` runs it: V8 would
 * otherwise grow it to 16 MiB under the steady allocation of many live calls, which is
 * RSS that grows with load and with how long a burst lasts, and measured no faster; see the
 * README's Performance section.)
 *
 * The calltape command line. Flags override environment variables (see README, Configuration).
 */
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config, type ConfigInput } from '../config.js';
import { serveUntilSignalled } from './serve.js';
// Each command's module is imported when that command runs: `serve` would otherwise load the
// archive encoders and decoders (mediabunny, opus, FLAC) into the event loop's heap, where
// only the pipeline's worker threads use them.
import type { SimulateFlags } from './simulate.js';
import type { TranscribeFlags } from './transcribe.js';
import type { SummarizeFlags } from './insights.js';
import type { ArchiveFlags } from './archive.js';
import { CALLTAPE_VERSION } from '../version.js';
import type { VerifyFlags } from './custody.js';
import { ARCHIVE_FORMATS } from '../archive/formats.js';
import type { ServerFlags } from './step-job.js';
import { SIMULATED_PROVIDERS } from '../simulate/wire.js';

const version = CALLTAPE_VERSION;

/** The flag behind each option `serve` takes, so a bad value is reported under the flag given. */
const SERVE_FLAGS: Partial<Record<keyof Config, string>> = {
  port: '--port',
  host: '--host',
  dataDir: '--data-dir',
  publicUrl: '--public-url',
  format: '--format',
  twimlMode: '--twiml-mode',
  logLevel: '--log-level',
  configFile: '--config',
};

const program = new Command();
program.name('calltape').description('Record phone-call media streams to WAV files.').version(version, '-v, --version', 'print the version');

program
  .command('serve')
  .description('serve the stream endpoints and the answer URL (what `npm start` runs)')
  .option('-p, --port <port>', 'port to listen on (env PORT, default 8080)')
  .option('-H, --host <host>', 'interface to bind (env HOST, default 127.0.0.1)')
  .option('-d, --data-dir <dir>', 'where recordings go (env CALLTAPE_DATA_DIR, default ./data)')
  .option('--public-url <url>', 'public base URL for answer markup (env CALLTAPE_PUBLIC_URL)')
  .addOption(new Option('--format <format>', 'file format (env CALLTAPE_FORMAT, default pcm16)').choices(['pcm16', 'mulaw']))
  .addOption(new Option('--twiml-mode <mode>', 'answer mode (env CALLTAPE_TWIML_MODE, default start)').choices(['start', 'connect']))
  .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env CALLTAPE_LOG_LEVEL, default info)')
  .option('-c, --config <file>', 'JSON file of options, under the environment and flags (env CALLTAPE_CONFIG)')
  .action(async (flags: Record<string, string | undefined>) => {
    const options: ConfigInput = {
      port: flags.port,
      host: flags.host,
      dataDir: flags.dataDir,
      publicUrl: flags.publicUrl,
      format: flags.format as ConfigInput['format'],
      twimlMode: flags.twimlMode as ConfigInput['twimlMode'],
      logLevel: flags.logLevel as ConfigInput['logLevel'],
      configFile: flags.config,
    };
    // Checked here first so a bad value is reported under the flag that gave it.
    loadConfig(options, process.env, SERVE_FLAGS);
    await serveUntilSignalled(options);
  });

program
  .command('simulate')
  .description("open N concurrent calls in a provider's protocol against a stream URL (smoke and load test)")
  .option('-p, --provider <name>', `protocol of the calls: ${SIMULATED_PROVIDERS.join(', ')}`, 'twilio')
  .option('-u, --url <url>', 'stream endpoint (default: ws://127.0.0.1:8080/streams/<provider>)')
  .option('-n, --calls <n>', 'concurrent calls', '1')
  .option('-d, --duration <seconds>', 'length of each call', '10')
  .option('--inbound <file>', 'caller audio: raw mu-law, mu-law WAV or 8 kHz PCM16 WAV (default: built-in speech)')
  .option('--outbound <file>', 'audio played to the caller (default: built-in speech)')
  .option('--one-track', 'stream the inbound track only')
  .option('--fast', 'send as fast as the socket takes it instead of in real time (the server refuses audio more than CALLTAPE_REALTIME_ALLOWANCE_MS ahead of real time: raise it on the server for fast replays)')
  .option('--ramp <ms>', 'spread call starts over this long (realtime)')
  .option('--coalesce-writes', "send a call's frames due together (both tracks) in one TCP write: a leaner generator")
  .option('--twilio-auth-token <token>', 'sign the upgrade with X-Twilio-Signature (env TWILIO_AUTH_TOKEN)')
  .option('--stream-token-secret <secret>', 'send the per-call token parameter (env CALLTAPE_STREAM_TOKEN_SECRET)')
  .option('--param <name=value...>', 'custom <Parameter>s for start')
  .option('--json', 'print the summary as JSON')
  .option('--api-url <url>', "the server's API, to check what it recorded (default: the --url host over http)")
  .option('--api-token <token>', 'token for that API (env CALLTAPE_API_TOKEN)')
  .option('--no-check', 'do not compare what the server recorded with what was sent')
  .addHelpText(
    'after',
    `
After the calls, simulate reads each recording back from the server's API and exits 1 if one
is shorter than what was sent or the server refused frames of it.

Provider credentials come from the environment, as the server reads them:
CALLTAPE_GENESYS_API_KEY and CALLTAPE_GENESYS_CLIENT_SECRET (AudioHook upgrades, signed),
CALLTAPE_ASTERISK_BASIC_AUTH (Asterisk's HTTP Basic).

Replaying faster than real time (--fast): the server refuses audio that runs more than
CALLTAPE_REALTIME_ALLOWANCE_MS (default 10000) ahead of the time since the stream opened, so
start the server for a load test with a larger allowance, e.g. for 30-minute calls:
  CALLTAPE_REALTIME_ALLOWANCE_MS=1800000 npm start
  calltape simulate --calls 200 --duration 1800 --fast --json`,
  )
  .action(async (flags: SimulateFlags) => {
    const { runSimulateCommand } = await import('./simulate.js');
    process.exitCode = await runSimulateCommand(flags);
  });

program
  .command('transcribe')
  .description('transcribe a recording by hand: an id (the server queues it) or a recording directory (transcribed here)')
  .argument('<recording>', "a recording id, or a recording's directory (recordings/YYYY/MM/DD/<stream id>)")
  .option('-u, --url <url>', 'the server, for an id (default http://127.0.0.1:$PORT, else 8080)')
  .option('--api-token <token>', 'token for its API (env CALLTAPE_API_TOKEN)')
  .option('--transcribe-url <url>', 'for a directory: the speech-to-text server, ending in /v1 (env CALLTAPE_TRANSCRIBE_URL)')
  .option('--model <name>', 'for a directory: the model (env CALLTAPE_TRANSCRIBE_MODEL, default whisper-1)')
  .option('--language <code>', 'for a directory: the language, e.g. en (env CALLTAPE_TRANSCRIBE_LANGUAGE)')
  .option('--timeout <seconds>', 'for an id: how long to follow the job', '1800')
  .addHelpText(
    'after',
    `
With an id, the server that holds the recording transcribes it with its own settings, indexes
it for search and sends recording.transcribed. With a directory, no server is needed; the
transcript is written to <dir>/transcript.json (the API key, CALLTAPE_TRANSCRIBE_API_KEY, is
read from the environment, never from a flag).`,
  )
  .action(async (recording: string, flags: TranscribeFlags) => {
    const { runTranscribeCommand } = await import('./transcribe.js');
    process.exitCode = await runTranscribeCommand(recording, flags);
  });

program
  .command('analyze')
  .description("a recording's conversation analytics by hand: an id (the server queues it) or a recording directory (analysed here)")
  .argument('<recording>', "a recording id, or a recording's directory (recordings/YYYY/MM/DD/<stream id>)")
  .option('-u, --url <url>', 'the server, for an id (default http://127.0.0.1:$PORT, else 8080)')
  .option('--api-token <token>', 'token for its API (env CALLTAPE_API_TOKEN)')
  .option('--timeout <seconds>', 'for an id: how long to follow the job', '600')
  .addHelpText(
    'after',
    `
Talk time, silence, overlap, interruptions and the longest monologue per speaker, from a
voice-activity detector run on each track. With an id, the server stores them in its catalog
(the list's filters) and sends recording.analyzed. With a directory, they are printed and
written to <dir>/analytics.json.`,
  )
  .action(async (recording: string, flags: ServerFlags) => {
    const { runAnalyzeCommand } = await import('./insights.js');
    process.exitCode = await runAnalyzeCommand(recording, flags);
  });

program
  .command('archive')
  .description("a recording's compressed archives by hand: an id (the server queues it) or a recording directory (encoded here)")
  .argument('<recording>', "a recording id, or a recording's directory (recordings/YYYY/MM/DD/<stream id>)")
  .option('--formats <list>', `comma list of ${ARCHIVE_FORMATS.join(', ')} (default CALLTAPE_ARCHIVE_FORMATS; for an id, the server's)`)
  .option('-u, --url <url>', 'the server, for an id (default http://127.0.0.1:$PORT, else 8080)')
  .option('--api-token <token>', 'token for its API (env CALLTAPE_API_TOKEN)')
  .option('--timeout <seconds>', 'for an id: how long to follow the job', '600')
  .addHelpText(
    'after',
    `
Each WAV encoded to FLAC (lossless, about 40% of the WAV), Ogg Opus or MP3 (16 kbps a
channel, about 12%), then read back before it counts: FLAC must decode to the WAV's exact
samples, Opus and MP3 to its length. With an id, the server lists them in its catalog, uploads
them with S3 storage, and removes the WAVs with CALLTAPE_KEEP_WAV=false. With a directory,
they are written beside the WAVs (which stay) and listed in meta.json.`,
  )
  .action(async (recording: string, flags: ArchiveFlags) => {
    const { runArchiveCommand } = await import('./archive.js');
    process.exitCode = await runArchiveCommand(recording, flags);
  });

program
  .command('signing-key')
  .description("prints the minisign public key of CALLTAPE_SIGNING_KEY, for checking recordings' manifests")
  .option('--key <file>', 'the Ed25519 private key in PKCS#8 PEM (env CALLTAPE_SIGNING_KEY)')
  .addHelpText(
    'after',
    `
Give the output to whoever checks the recordings: with it, Debian's minisign verifies a
recording's manifest (minisign -V -p calltape.pub -m manifest.json), and sha256sum its files.
Make a key with: openssl genpkey -algorithm ed25519 -out calltape-signing.pem`,
  )
  .action(async (flags: { key?: string }) => {
    const { runSigningKeyCommand } = await import('./custody.js');
    process.exitCode = runSigningKeyCommand(flags);
  });

program
  .command('verify')
  .description("checks a recording against its signed manifest: the signature, then each file's size and SHA-256")
  .argument('<recording>', "a recording id (read through the server's API) or a recording's directory")
  .option('--public-key <file>', 'the minisign public key (calltape signing-key writes it); default: derived from CALLTAPE_SIGNING_KEY')
  .option('-u, --url <url>', 'the server, for an id (default http://127.0.0.1:$PORT, else 8080)')
  .option('--api-token <token>', 'token for its API (env CALLTAPE_API_TOKEN)')
  .action(async (recording: string, flags: VerifyFlags) => {
    const { runVerifyCommand } = await import('./custody.js');
    process.exitCode = await runVerifyCommand(recording, flags);
  });

program
  .command('summarize')
  .description("a recording's summary from an LLM by hand: an id (the server queues it) or a recording directory (summarised here)")
  .argument('<recording>', "a recording id, or a recording's directory with a transcript.json")
  .option('-u, --url <url>', 'the server, for an id (default http://127.0.0.1:$PORT, else 8080)')
  .option('--api-token <token>', 'token for its API (env CALLTAPE_API_TOKEN)')
  .option('--summary-url <url>', 'for a directory: the chat server, ending in /v1, e.g. http://127.0.0.1:11434/v1 for Ollama (env CALLTAPE_SUMMARY_URL)')
  .option('--model <name>', 'for a directory: the model (env CALLTAPE_SUMMARY_MODEL, default llama3.2)')
  .option('--timeout <seconds>', 'for an id: how long to follow the job', '1800')
  .addHelpText(
    'after',
    `
With an id, the server summarises the recording's transcript with its own settings, indexes the
summary for search and sends recording.summarized. With a directory, the summary is printed and
written to <dir>/summary.json (the API key, CALLTAPE_SUMMARY_API_KEY, is read from the
environment, never from a flag).`,
  )
  .action(async (recording: string, flags: SummarizeFlags) => {
    const { runSummarizeCommand } = await import('./insights.js');
    process.exitCode = await runSummarizeCommand(recording, flags);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || (err instanceof Error && err.message.startsWith('--'))) {
    process.stderr.write(`calltape: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`calltape: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

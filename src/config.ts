/**
 * Configuration: one zod schema for environment variables, CLI flags and the library API.
 * Precedence: explicit options (CLI flags, createRecorder arguments) > environment > defaults.
 * Every option, its variable and its default are listed in the README; keep them in step.
 */
import type { ErrorCode } from './errors.js';
import fs from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { allowedValues, describeValue, nearest } from './config-problems.js';
import { ARCHIVE_FORMATS, isArchiveFormat, type ArchiveFormat } from './archive/formats.js';
import { parseNamedTokens } from './auth/api-credentials.js';

const bool = z.union([z.boolean(), z.stringbool()]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const configSchema = z.object({
  /** Interface the server binds. Loopback by default: expose it deliberately. */
  host: z.string().min(1).default('127.0.0.1'),
  port: int(0, 65535).default(8080),
  /** Root for recordings (and, later, the catalog). */
  dataDir: z.string().min(1).default('./data'),
  /** Public base URL (https://rec.example.com) used in answer markup instead of request headers. */
  publicUrl: z.url({ protocol: /^(https?|wss?)$/ }).optional(),
  /** postgres://… for a PostgreSQL catalog; unset = SQLite file <dataDir>/calltape.db. */
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** json: one JSON object per line; pretty: one readable line; auto: pretty on a terminal, else json. */
  logFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),

  /** pcm16: 16-bit PCM WAV (default). mulaw: WAV format 7, the wire bytes unchanged (mu-law streams only). */
  format: z.enum(['pcm16', 'mulaw']).default('pcm16'),
  recordInbound: bool.default(true),
  recordOutbound: bool.default(true),
  recordStereo: bool.default(true),
  /** Byte order of L16 streams whose provider does not declare it; auto detects it from the audio. */
  l16ByteOrder: z.enum(['auto', 'be', 'le']).default('auto'),

  /** Largest WebSocket frame accepted; a bigger one closes the stream with 1009. */
  maxPayloadBytes: int(1024, 16 * 1024 * 1024).default(64 * 1024),
  /** Largest silence a timestamp jump may insert; frames further ahead are rejected. */
  maxGapMs: int(0, 24 * 3600 * 1000).default(5 * 60 * 1000),
  /** How late (behind the newest audio of the stream) a frame may arrive and still be placed. */
  reorderWindowMs: int(0, 10_000).default(100),
  /**
   * Audio batched per write, per file: fewer, larger writes cost less CPU (each goes through
   * the libuv thread pool), and a crash mid-call loses at most this much plus the reorder window.
   */
  writeBatchMs: int(20, 10_000).default(1000),
  /**
   * How long a stream's socket waits after a read before it reads again (http/direct-reads.ts):
   * several frames a read cost far less CPU than one each, and a frame waits up to this long
   * in the kernel (live listening is that much further behind). 0: read as data comes.
   * Streams placed by arrival are always read as data comes.
   */
  readIntervalMs: int(0, 1000).default(100),
  /**
   * Audio waiting for the disk, all streams together, past which every stream stops reading
   * its socket until the files are down to half of it (frames wait in the kernel and TCP holds
   * the sender back). Bounds memory when many calls start at once or the disk falls behind;
   * each stream also stops on its own past 1 MiB.
   */
  maxWriteBacklogBytes: int(64 * 1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  /**
   * Directories and files of recordings starting that are handed to libuv's file pool at
   * once; the rest wait in order in calltape. The pool serves requests in order, so without
   * this a burst of new calls queued thousands of creations ahead of every running call's
   * writes. Default: the pool's size (UV_THREADPOOL_SIZE, else libuv's 4).
   */
  maxConcurrentFileCreations: int(1, 1024).default(Number(process.env.UV_THREADPOOL_SIZE) || 4),
  /**
   * Timestamp jitter tolerated (J, ms): a frame whose drift-corrected timestamp lands within
   * 2J + 2 ms of its track's end continues the track; further is a real gap or overlap.
   * See Timeline.positionOf.
   */
  timestampToleranceMs: int(0, 100).default(5),
  /**
   * Protocols without timestamps: how long a frame waits for the frames after it before its
   * place is decided, and the smallest gap in arrival that is filled with silence (shorter
   * ones, and stalls followed by a burst, are not gaps). See recording/arrival-clock.ts.
   */
  arrivalWindowMs: int(20, 5_000).default(200),
  arrivalMinGapMs: int(20, 60_000).default(100),
  /** Bot audio the application may queue ahead of the call (tee, see recording/tee.ts). */
  teeMaxQueuedMs: int(1_000, 3_600_000).default(300_000),
  /**
   * How often a growing file's WAV header sizes are patched (after its own writes, so calls
   * do not patch all at once). Streams that went quiet are written within a second regardless.
   */
  headerIntervalMs: int(100, 60_000).default(5000),
  /** Media frames kept while waiting for a late `start`; more are rejected. */
  preStartFrames: int(0, 10_000).default(50),

  /**
   * Stream sockets open at once, in any state (awaiting start, recording, finishing); more
   * upgrades are answered 503. Default: 1000 per CPU core.
   */
  maxStreams: int(1, 1_000_000).default(1000 * Math.max(1, os.availableParallelism())),
  /**
   * Of those, sockets whose upgrade carried no configured provider credential (and whose start
   * has not yet shown a valid stream token): a flood on a route without credentials cannot
   * take the slots of authenticated calls. Default: half of maxStreams.
   */
  maxUnauthenticatedStreams: int(1, 1_000_000).optional(),
  /** A socket that has not sent a usable start this long after the upgrade is closed (1008). */
  startTimeoutMs: int(500, 120_000).default(5000),
  /**
   * How far a recording may run ahead of the wall-clock time since its socket opened: frames
   * further ahead are refused (CALLTAPE_ERR_AHEAD_OF_REAL_TIME), so timestamps that jump, and
   * senders faster than real time, cannot fill the disk. Raise it to replay recorded calls fast.
   */
  realtimeAllowanceMs: int(1000, 7 * 24 * 3600 * 1000).default(10_000),
  /** A recording with no audio frame for this long is finished (endReason idle) and closed. */
  idleTimeoutMs: int(1000, 24 * 3600 * 1000).default(30_000),
  /**
   * A recording is finished (endReason max-duration) once it holds this much audio (cut
   * exactly there) or its socket has been open this long, whichever comes first.
   */
  maxDurationMs: int(1000, 7 * 24 * 3600 * 1000).default(4 * 3600 * 1000),

  /** Twilio auth token: when set, /twiml and /streams/twilio upgrades must carry a valid X-Twilio-Signature. */
  twilioAuthToken: z.string().min(1).optional(),
  /** When set, /twiml adds a per-call <Parameter name="token"> (HMAC of the CallSid) that every start must carry. */
  streamTokenSecret: z.string().min(16).optional(),
  /** How long a stream token is good for after the answer request that issued it. */
  streamTokenTtlMs: int(10_000, 24 * 3600 * 1000).default(300_000),
  /**
   * Providers whose streams need no stream token when their own upgrade credential proved
   * them (Genesys, ACS, Asterisk: no answer route of calltape's gives their calls a token).
   * A comma list; each must have its credential configured (checked at start).
   */
  streamTokenExempt: z
    .union([z.array(z.string()), z.string()])
    .transform((value) => [...new Set((typeof value === 'string' ? value.split(',') : value).map((part) => part.trim().toLowerCase()).filter(Boolean))])
    .default([]),
  /**
   * Required as ?key= on /answer/<provider> (and on /twiml without TWILIO_AUTH_TOKEN) before
   * stream tokens are issued: those requests are not otherwise authenticated.
   */
  answerKey: z.string().min(16).optional(),
  /** When set, /streams/signalwire upgrades need `Authorization: Bearer <this>` (SignalWire's authBearerToken). */
  signalwireBearerToken: z.string().min(1).optional(),
  /**
   * When set (`key:token`), /streams/exotel upgrades need these HTTP Basic credentials: what
   * Exotel sends for a stream URL of the form wss://key:token@host/streams/exotel.
   */
  exotelBasicAuth: z.string().regex(/^[^:]+:.+$/, 'must be key:token').optional(),
  /** `username:password` Asterisk's websocket_client.conf sends (HTTP Basic) on /streams/asterisk. */
  asteriskBasicAuth: z.string().regex(/^[^:]+:.+$/, 'must be username:password').optional(),
  /** A token the dial string puts in the stream URL (`v(token=…)`) for /streams/asterisk. */
  asteriskUrlToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * The Azure Communication Services resource's id: /streams/acs upgrades must then carry the
   * JWT Call Automation signs (Authorization: Bearer), with this audience.
   */
  acsAudience: z.string().min(1).optional(),
  /** Where ACS publishes the keys it signs those tokens with (its JWKS). */
  acsJwksUrl: z.url({ protocol: /^https?$/ }).default('https://acscallautomation.communication.azure.com/calling/keys'),
  /** A token (16+ characters) the TransportUri carries as `?token=` for /streams/acs, instead of or beside the JWT. */
  acsUrlToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /** The API key of the Genesys AudioHook integration: /streams/genesys upgrades must carry it as X-API-KEY. */
  genesysApiKey: z.string().min(1).optional(),
  /**
   * The integration's client secret (base64, as Genesys shows it): upgrades must then carry an
   * HMAC-SHA256 HTTP message signature made with it (providers/genesys/signature.ts).
   */
  genesysClientSecret: z
    .string()
    .refine((value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length >= 16, 'base64 of 16 bytes or more (the client secret as Genesys shows it)')
    .optional(),
  /**
   * Which proxies' X-Forwarded-For to believe (fastify trustProxy): `true` (every hop), a hop
   * count, or comma-separated addresses/CIDRs. Unset: none, and a request with any proxy
   * header is never taken for a local client.
   */
  trustProxy: z
    .union([z.boolean(), z.string()])
    .transform((value, ctx): boolean | number | string[] => {
      if (typeof value === 'boolean') return value;
      const text = value.trim();
      if (text === 'true') return true;
      if (text === 'false') return false;
      if (/^\d{1,3}$/.test(text)) return Number(text);
      const list = text.split(',').map((part) => part.trim()).filter(Boolean);
      if (list.length === 0 || !list.every((part) => /^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(part) || part === 'loopback' || part === 'linklocal' || part === 'uniquelocal')) {
        ctx.addIssue({ code: 'custom', message: 'must be true, a hop count, or comma-separated addresses/CIDRs' });
        return z.NEVER;
      }
      return list;
    })
    .optional(),
  /**
   * Comma-separated providers whose /streams/<provider> route is served (auto included);
   * unset = all. Turn off the routes you do not use: each one without a credential accepts
   * any sender.
   */
  streamRoutes: z.string().regex(/^[a-z]+(\s*,\s*[a-z]+)*$/, 'must be comma-separated provider names').optional(),
  /** Comma-separated bearer tokens for /api; unset = /api answers loopback clients only. */
  apiToken: z
    .string()
    .min(1)
    // " , " would start a server that refuses every request and says nothing.
    .refine((value) => value.split(',').some((token) => token.trim() !== ''), 'must be at least one token (comma-separated)')
    .optional(),
  /**
   * Named API credentials, `name:token` pairs (comma-separated): the name is who the audit
   * trail, holds and tombstones say acted. Beside or instead of CALLTAPE_API_TOKEN.
   */
  apiTokens: z
    .string()
    .min(1)
    .superRefine((value, ctx) => {
      try {
        parseNamedTokens(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional(),

  /** Answer markup: start = <Start><Stream> then continue; connect = <Connect><Stream>. */
  twimlMode: z.enum(['start', 'connect']).default('start'),
  /** Optional <Say> after <Start><Stream>. */
  twimlSay: z.string().max(4000).optional(),
  /** Optional number or SIP URI to <Dial> after <Start><Stream>; without it the call <Pause>s. */
  twimlDial: z.string().max(500).optional(),
  twimlPauseSeconds: int(1, 14_400).default(3600),

  /** Where completion webhooks go (all recordings). */
  webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** HMAC-SHA256 key for X-Calltape-Signature; without it webhooks go unsigned (a warning is logged). */
  webhookSecret: z.string().min(1).optional(),
  /** Host patterns (comma-separated; `*.example.com`, `host:port`) a stream's statusCallback parameter may name. */
  webhookAllow: z.string().optional(),
  /** Give up on a delivery this long after the event. */
  webhookMaxAgeMs: int(1000, 30 * 24 * 3600 * 1000).default(24 * 3600 * 1000),
  /** First retry delay; doubles per attempt (with jitter) up to webhookRetryMaxMs. */
  webhookRetryBaseMs: int(10, 3600 * 1000).default(2000),
  webhookRetryMaxMs: int(10, 24 * 3600 * 1000).default(10 * 60 * 1000),
  webhookTimeoutMs: int(100, 120_000).default(10_000),
  /** How often the outbox looks for due deliveries (new events are sent at once). */
  webhookPollMs: int(10, 60_000).default(1000),

  /**
   * Where finished recordings are kept: `file:` (the data dir, as recorded) or
   * `s3://<bucket>/<prefix>` (uploaded from the data dir, which is then only the spool).
   */
  storageUrl: z
    .string()
    .regex(/^(file:|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9._/-]*)?)$/, 'must be file: or s3://<bucket>/<prefix>')
    .default('file:'),
  /** An S3-compatible server (MinIO, Ceph, R2…); unset: AWS itself. Path-style addressing then. */
  s3Endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /** With S3 storage, keep the local copy after a verified upload (default: removed). */
  keepLocal: bool.default(false),
  /** First wait before a failed upload is tried again; doubles up to 5 minutes. */
  uploadRetryBaseMs: int(10, 600_000).default(2000),

  /**
   * Post-call pipeline (pipeline/): threads running its CPU-heavy steps (peaks, the silence
   * analysis before transcription) off the event loop that reads live calls. Default: one
   * thread per core beyond the first, at most 2.
   */
  pipelineWorkers: int(1, 16).default(Math.max(1, Math.min(2, os.availableParallelism() - 1))),
  /**
   * How long after a call its CPU-heavy post-call steps (peaks, transcript) wait: calls often
   * end together, and their files are finalized first rather than beside their peaks.
   */
  pipelineStartDelayMs: int(0, 600_000).default(2000),
  /** /readyz says `delayed` when a due post-call job has waited this long. */
  pipelineDelayMs: int(1000, 7 * 24 * 3600 * 1000).default(10 * 60 * 1000),
  /** First wait before a failed post-call step is tried again; doubles up to 10 minutes. */
  pipelineRetryBaseMs: int(10, 600_000).default(5000),

  /**
   * Transcription (transcribe/): the base URL of an OpenAI-compatible speech-to-text server,
   * ending in /v1 (whisper.cpp, speaches, vLLM, LocalAI, Ollama, a hosted API). Unset: off.
   */
  transcribeUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** The model name the server expects (whisper-1, Systran/faster-whisper-small, openai/whisper-large-v3…). */
  transcribeModel: z.string().min(1).max(200).default('whisper-1'),
  /** Sent as `Authorization: Bearer`; never logged. */
  transcribeApiKey: z.string().min(1).optional(),
  /** ISO-639-1 language of the calls (en, de…); unset lets the server detect it. */
  transcribeLanguage: z.string().regex(/^[a-z]{2,3}$/, 'an ISO-639-1 code such as en').optional(),
  /** One request (one piece of a track) must be answered within this long. */
  transcribeTimeoutMs: int(1000, 3_600_000).default(5 * 60 * 1000),
  /** Requests to the server at once, all recordings together. */
  transcribeConcurrency: int(1, 64).default(2),
  /** A transcript not made this long after the call is given up (failed, with the reason). */
  transcribeMaxAgeMs: int(1000, 30 * 24 * 3600 * 1000).default(24 * 3600 * 1000),
  /** Speaker names in transcripts: the inbound track (the caller) and the outbound track. */
  transcribeSpeakerInbound: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and - (at most 32)').default('caller'),
  transcribeSpeakerOutbound: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and - (at most 32)').default('agent'),

  /**
   * Conversation analytics (analytics/): talk time, silence, overlap and interruptions per
   * speaker from a voice-activity detector, after every call. Needs no service; on by default.
   */
  analytics: bool.default(true),
  /** libfvad's aggressiveness, 0 to 3: 3 takes the least line noise for voice. */
  analyticsVadMode: int(0, 3).default(3),

  /**
   * Summaries (summarize/): the base URL of an OpenAI-compatible chat server, ending in /v1
   * (Ollama, vLLM, llama.cpp server, LocalAI, a hosted API). Unset: off. Needs transcripts.
   */
  summaryUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** The model name the server expects (llama3.2, qwen2.5:7b-instruct, gpt-4o-mini…). */
  summaryModel: z.string().min(1).max(200).default('llama3.2'),
  /** Sent as `Authorization: Bearer`; never logged. */
  summaryApiKey: z.string().min(1).optional(),
  /** A file whose text replaces the built-in instructions to the model. */
  summaryPromptFile: z.string().min(1).optional(),
  /** The most transcript a request carries (estimated tokens); longer calls are summarised in parts, then combined. */
  summaryMaxInputTokens: int(256, 1_000_000).default(6000),
  /** One request must be answered within this long (local models on a CPU are slow). */
  summaryTimeoutMs: int(1000, 3_600_000).default(5 * 60 * 1000),
  /** A summary not made this long after the call is given up (failed, with the reason). */
  summaryMaxAgeMs: int(1000, 30 * 24 * 3600 * 1000).default(24 * 3600 * 1000),

  /**
   * Compressed archives made of every finished file after the call (archive/): a comma list
   * of flac, opus, mp3. Unset or empty: none (the WAVs only).
   */
  archiveFormats: z
    .union([z.array(z.string()), z.string()])
    .transform((value, ctx): ArchiveFormat[] => {
      const list = (typeof value === 'string' ? value.split(',') : value).map((part) => part.trim().toLowerCase()).filter(Boolean);
      const unknown = list.find((part) => !isArchiveFormat(part));
      if (unknown !== undefined) {
        ctx.addIssue({ code: 'custom', message: `a comma list of ${ARCHIVE_FORMATS.join(', ')} (${JSON.stringify(unknown.slice(0, 20))} is none of them)` });
        return z.NEVER;
      }
      return [...new Set(list as ArchiveFormat[])];
    })
    .default([]),
  /**
   * Keep the WAVs once archives exist. false: each WAV is removed once every archive of it is
   * written and read back (FLAC bit-exact, Opus and MP3 whole and as long); needs a format.
   */
  keepWav: bool.default(true),

  /**
   * An Ed25519 private key in PKCS#8 PEM (`openssl genpkey -algorithm ed25519`): every
   * recording gets a manifest of its files signed with it in minisign's format (custody/).
   */
  signingKey: z.string().min(1).optional(),

  /**
   * age X25519 recipients (`age1…`, comma- or space-separated), or the path of a file of them
   * (one a line, # comments): every finished recording's content is encrypted to them and its
   * plaintext removed (custody/encryption.ts). The server never holds a private key.
   */
  encryptTo: z.string().min(1).optional(),
  /** Keep transcript and summary text of encrypted recordings in the search index (false: removed once encrypted). */
  indexEncryptedText: bool.default(false),

  /** This node's name in the catalog (recordings, live list); default `<hostname>:<port>`. */
  nodeId: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'letters, digits and . _ : - (at most 100)').optional(),
  /** Where the other nodes reach this node's API; default http://<host>:<port> (the hostname when listening on all addresses). */
  nodeUrl: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * A node whose heartbeat is older than this is gone: another node marks its open recordings
   * `lost` (with their webhook). Heartbeats go out every sixth of it.
   */
  nodeLeaseMs: int(3000, 3_600_000).default(30_000),

  /** Delete recordings (files and rows) older than this many days; unset keeps them forever. */
  retentionDays: z.coerce.number().positive().max(36500).optional(),
  /** How often the retention job runs. */
  retentionIntervalMs: int(1000, 7 * 24 * 3600 * 1000).default(3600 * 1000),

  /**
   * HTTP: a connection with no progress for this long (a client that stops reading a
   * download or an event stream, or stops sending) is closed. Upgraded stream sockets are
   * governed by the stream limits instead.
   */
  httpIdleTimeoutMs: int(1000, 3_600_000).default(60_000),
  /** Event stream (/api/events): bytes waiting for a client that does not read before it is dropped. */
  sseMaxBufferedBytes: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** HTTP: the whole request (headers and body) must arrive within this long. */
  httpRequestTimeoutMs: int(1000, 600_000).default(30_000),

  /** /readyz says not-ready when the data dir's disk has less free space than this. */
  minFreeBytes: int(0, Number.MAX_SAFE_INTEGER).default(256 * 1024 * 1024),
  /** A JSON file of options (the keys of this schema), under the environment and flags. */
  configFile: z.string().min(1).optional(),

  /** How long shutdown waits for open recordings to finish before exiting anyway. */
  shutdownTimeoutMs: int(100, 600_000).default(10_000),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variable for each option. */
export const ENV_NAMES: Readonly<Record<keyof Config, string>> = {
  host: 'HOST',
  port: 'PORT',
  dataDir: 'CALLTAPE_DATA_DIR',
  publicUrl: 'CALLTAPE_PUBLIC_URL',
  databaseUrl: 'DATABASE_URL',
  logLevel: 'CALLTAPE_LOG_LEVEL',
  logFormat: 'CALLTAPE_LOG_FORMAT',
  format: 'CALLTAPE_FORMAT',
  recordInbound: 'CALLTAPE_RECORD_INBOUND',
  recordOutbound: 'CALLTAPE_RECORD_OUTBOUND',
  recordStereo: 'CALLTAPE_RECORD_STEREO',
  l16ByteOrder: 'CALLTAPE_L16_BYTE_ORDER',
  maxPayloadBytes: 'CALLTAPE_MAX_PAYLOAD_BYTES',
  maxGapMs: 'CALLTAPE_MAX_GAP_MS',
  reorderWindowMs: 'CALLTAPE_REORDER_WINDOW_MS',
  writeBatchMs: 'CALLTAPE_WRITE_BATCH_MS',
  readIntervalMs: 'CALLTAPE_READ_INTERVAL_MS',
  maxWriteBacklogBytes: 'CALLTAPE_MAX_WRITE_BACKLOG_BYTES',
  maxConcurrentFileCreations: 'CALLTAPE_MAX_CONCURRENT_FILE_CREATIONS',
  timestampToleranceMs: 'CALLTAPE_TIMESTAMP_TOLERANCE_MS',
  arrivalWindowMs: 'CALLTAPE_ARRIVAL_WINDOW_MS',
  arrivalMinGapMs: 'CALLTAPE_ARRIVAL_MIN_GAP_MS',
  teeMaxQueuedMs: 'CALLTAPE_TEE_MAX_QUEUED_MS',
  headerIntervalMs: 'CALLTAPE_HEADER_INTERVAL_MS',
  preStartFrames: 'CALLTAPE_PRE_START_FRAMES',
  maxStreams: 'CALLTAPE_MAX_STREAMS',
  maxUnauthenticatedStreams: 'CALLTAPE_MAX_UNAUTHENTICATED_STREAMS',
  startTimeoutMs: 'CALLTAPE_START_TIMEOUT_MS',
  realtimeAllowanceMs: 'CALLTAPE_REALTIME_ALLOWANCE_MS',
  idleTimeoutMs: 'CALLTAPE_IDLE_TIMEOUT_MS',
  maxDurationMs: 'CALLTAPE_MAX_DURATION_MS',
  twilioAuthToken: 'TWILIO_AUTH_TOKEN',
  streamTokenSecret: 'CALLTAPE_STREAM_TOKEN_SECRET',
  streamTokenExempt: 'CALLTAPE_STREAM_TOKEN_EXEMPT',
  streamTokenTtlMs: 'CALLTAPE_STREAM_TOKEN_TTL_MS',
  answerKey: 'CALLTAPE_ANSWER_KEY',
  signalwireBearerToken: 'CALLTAPE_SIGNALWIRE_BEARER_TOKEN',
  exotelBasicAuth: 'CALLTAPE_EXOTEL_BASIC_AUTH',
  asteriskBasicAuth: 'CALLTAPE_ASTERISK_BASIC_AUTH',
  asteriskUrlToken: 'CALLTAPE_ASTERISK_URL_TOKEN',
  acsAudience: 'CALLTAPE_ACS_AUDIENCE',
  acsJwksUrl: 'CALLTAPE_ACS_JWKS_URL',
  acsUrlToken: 'CALLTAPE_ACS_URL_TOKEN',
  genesysApiKey: 'CALLTAPE_GENESYS_API_KEY',
  genesysClientSecret: 'CALLTAPE_GENESYS_CLIENT_SECRET',
  trustProxy: 'CALLTAPE_TRUST_PROXY',
  streamRoutes: 'CALLTAPE_STREAM_ROUTES',
  apiToken: 'CALLTAPE_API_TOKEN',
  apiTokens: 'CALLTAPE_API_TOKENS',
  twimlMode: 'CALLTAPE_TWIML_MODE',
  twimlSay: 'CALLTAPE_TWIML_SAY',
  twimlDial: 'CALLTAPE_TWIML_DIAL',
  twimlPauseSeconds: 'CALLTAPE_TWIML_PAUSE_SECONDS',
  webhookUrl: 'CALLTAPE_WEBHOOK_URL',
  webhookSecret: 'CALLTAPE_WEBHOOK_SECRET',
  webhookAllow: 'CALLTAPE_WEBHOOK_ALLOW',
  webhookMaxAgeMs: 'CALLTAPE_WEBHOOK_MAX_AGE_MS',
  webhookRetryBaseMs: 'CALLTAPE_WEBHOOK_RETRY_BASE_MS',
  webhookRetryMaxMs: 'CALLTAPE_WEBHOOK_RETRY_MAX_MS',
  webhookTimeoutMs: 'CALLTAPE_WEBHOOK_TIMEOUT_MS',
  webhookPollMs: 'CALLTAPE_WEBHOOK_POLL_MS',
  retentionDays: 'CALLTAPE_RETENTION_DAYS',
  storageUrl: 'CALLTAPE_STORAGE_URL',
  nodeId: 'CALLTAPE_NODE_ID',
  nodeLeaseMs: 'CALLTAPE_NODE_LEASE_MS',
  nodeUrl: 'CALLTAPE_NODE_URL',
  s3Endpoint: 'CALLTAPE_S3_ENDPOINT',
  keepLocal: 'CALLTAPE_KEEP_LOCAL',
  uploadRetryBaseMs: 'CALLTAPE_UPLOAD_RETRY_BASE_MS',
  pipelineWorkers: 'CALLTAPE_PIPELINE_WORKERS',
  pipelineDelayMs: 'CALLTAPE_PIPELINE_DELAY_MS',
  pipelineStartDelayMs: 'CALLTAPE_PIPELINE_START_DELAY_MS',
  pipelineRetryBaseMs: 'CALLTAPE_PIPELINE_RETRY_BASE_MS',
  transcribeUrl: 'CALLTAPE_TRANSCRIBE_URL',
  transcribeModel: 'CALLTAPE_TRANSCRIBE_MODEL',
  transcribeApiKey: 'CALLTAPE_TRANSCRIBE_API_KEY',
  transcribeLanguage: 'CALLTAPE_TRANSCRIBE_LANGUAGE',
  transcribeTimeoutMs: 'CALLTAPE_TRANSCRIBE_TIMEOUT_MS',
  transcribeConcurrency: 'CALLTAPE_TRANSCRIBE_CONCURRENCY',
  transcribeMaxAgeMs: 'CALLTAPE_TRANSCRIBE_MAX_AGE_MS',
  transcribeSpeakerInbound: 'CALLTAPE_TRANSCRIBE_SPEAKER_INBOUND',
  transcribeSpeakerOutbound: 'CALLTAPE_TRANSCRIBE_SPEAKER_OUTBOUND',
  analytics: 'CALLTAPE_ANALYTICS',
  analyticsVadMode: 'CALLTAPE_ANALYTICS_VAD_MODE',
  summaryUrl: 'CALLTAPE_SUMMARY_URL',
  summaryModel: 'CALLTAPE_SUMMARY_MODEL',
  summaryApiKey: 'CALLTAPE_SUMMARY_API_KEY',
  summaryPromptFile: 'CALLTAPE_SUMMARY_PROMPT_FILE',
  summaryMaxInputTokens: 'CALLTAPE_SUMMARY_MAX_INPUT_TOKENS',
  summaryTimeoutMs: 'CALLTAPE_SUMMARY_TIMEOUT_MS',
  summaryMaxAgeMs: 'CALLTAPE_SUMMARY_MAX_AGE_MS',
  archiveFormats: 'CALLTAPE_ARCHIVE_FORMATS',
  keepWav: 'CALLTAPE_KEEP_WAV',
  signingKey: 'CALLTAPE_SIGNING_KEY',
  encryptTo: 'CALLTAPE_ENCRYPT_TO',
  indexEncryptedText: 'CALLTAPE_INDEX_ENCRYPTED_TEXT',
  retentionIntervalMs: 'CALLTAPE_RETENTION_INTERVAL_MS',
  httpIdleTimeoutMs: 'CALLTAPE_HTTP_IDLE_TIMEOUT_MS',
  httpRequestTimeoutMs: 'CALLTAPE_HTTP_REQUEST_TIMEOUT_MS',
  sseMaxBufferedBytes: 'CALLTAPE_SSE_MAX_BUFFERED_BYTES',
  shutdownTimeoutMs: 'CALLTAPE_SHUTDOWN_TIMEOUT_MS',
  minFreeBytes: 'CALLTAPE_MIN_FREE_BYTES',
  configFile: 'CALLTAPE_CONFIG',
};

/** A configuration calltape cannot start with (CALLTAPE_ERR_CONFIG), said in one line. */
export class ConfigError extends Error {
  readonly code = 'CALLTAPE_ERR_CONFIG' as const satisfies ErrorCode;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Builds the config from explicit options over environment variables over the config file
 * (options.configFile or CALLTAPE_CONFIG) over defaults. A problem is a ConfigError whose
 * message names the flag (`flagNames`), option, variable or file key, the value given and
 * what is allowed, all on one line.
 */
export function loadConfig(options: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env, flagNames: Partial<Record<keyof Config, string>> = {}): Config {
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const file = options.configFile ?? (env.CALLTAPE_CONFIG || undefined);
  if (file !== undefined) {
    for (const [key, value] of Object.entries(readConfigFile(file, options.configFile !== undefined ? (flagNames.configFile ?? 'configFile') : 'CALLTAPE_CONFIG'))) {
      merged[key] = value;
      origin[key] = `${file}: ${key}`;
    }
  }
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      merged[key] = value;
      origin[key] = name;
    }
  }
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    merged[key] = value;
    origin[key] = flagNames[key as keyof Config] ?? key;
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const field = (configSchema.shape as Record<string, unknown>)[key] as Parameters<typeof allowedValues>[0];
      return `${origin[key] ?? key}=${describeValue(key, merged[key])} is not valid: expected ${allowedValues(field, issue)}`;
    });
    throw new ConfigError(problems.join('; '));
  }
  // Removing the WAVs with no archive to keep would leave a recording with nothing to play.
  if (result.data.genesysClientSecret !== undefined && result.data.genesysApiKey === undefined) {
    throw new ConfigError(`${origin.genesysClientSecret ?? 'genesysClientSecret'} needs ${origin.genesysApiKey ?? 'CALLTAPE_GENESYS_API_KEY'}: the signature's keyid is the integration's API key`);
  }
  if (!result.data.keepWav && result.data.archiveFormats.length === 0) {
    throw new ConfigError(`${origin.keepWav ?? 'keepWav'}=false removes the WAVs once their archives are verified, but no archive is made: set ${origin.archiveFormats ?? 'CALLTAPE_ARCHIVE_FORMATS'} (flac, opus, mp3), or keep the WAVs`);
  }
  return result.data;
}

/** The config file's options: a JSON object whose keys are this schema's. */
function readConfigFile(file: string, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${source}=${JSON.stringify(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${source}=${JSON.stringify(file)} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${file}: expected a JSON object of options`);
  const known = Object.keys(ENV_NAMES);
  for (const key of Object.keys(parsed)) {
    if (!known.includes(key) || key === 'configFile') {
      const suggestion = nearest(key, known);
      throw new ConfigError(`${file}: unknown option ${JSON.stringify(key)}${suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : ''}`);
    }
  }
  return parsed as Record<string, unknown>;
}

/**
 * Every fixed limit calltape applies that is not a setting, in one place, each with why it
 * has its value. (Settings are in config.ts and the README's configuration table.)
 */

// --- one stream ---

/**
 * Audio waiting for the disk, per stream, past which the stream stops being read until the
 * files catch up (TCP then holds the sender back): 16 s of a two-track call in 16-bit files. Only a sender faster than real time (a replay, the fast benchmark) or a stalled
 * disk gets near it. (All streams together: CALLTAPE_MAX_WRITE_BACKLOG_BYTES.)
 */
export const STREAM_WRITE_BACKLOG_BYTES = 1024 * 1024;

/** dtmf, mark, pause and notice entries kept per recording; more are counted, not stored. */
export const MAX_EVENTS_KEPT = 10_000;

/**
 * Provider notices kept per recording (Telnyx errors, text frames of the binary protocols):
 * each holds up to NOTICE_TEXT_MAX_CHARS of the sender's text, so fewer than other events.
 */
export const MAX_NOTICES_KEPT = 200;

/** Rejections of one code logged per stream before the rest are only counted. */
export const LOGGED_REJECTIONS_PER_CODE = 5;

/**
 * A live listener's unread audio past which it is dropped (about 8 s of a two-track call at
 * 8 kHz): a listener that does not keep up never slows the recording.
 */
export const LISTEN_MAX_BUFFERED_BYTES = 256 * 1024;

/** Live listeners of one call: each costs a PCM copy per frame while it listens. */
export const LISTEN_MAX_PER_CALL = 16;
/** Live listeners a node takes across all its calls; the next is closed with 1013. */
export const LISTEN_MAX_TOTAL = 256;

/** Gaps (silence filled in) listed per track in meta.json; more are only counted. */
export const MAX_GAP_SPANS_LISTED = 100;

/** A live call's levels are measured this long after a live view last asked for them. */
export const LEVEL_WATCH_MS = 5_000;

/** Level reads closer together than this share one measuring window (several live views). */
export const LEVEL_MIN_WINDOW_MS = 250;

// --- what a provider's frames may carry ---

/** Parameters one start frame may carry (custom parameters, headers, metadata together). */
export const START_MAX_PARAMS = 100;

/** A parameter's name plus value, in characters. */
export const PARAM_MAX_CHARS = 2000;

/** A mark's name, in characters. */
export const MARK_NAME_MAX_CHARS = 1000;

/** Text kept from a free-form text frame (a notice in meta.json), in characters. */
export const NOTICE_TEXT_MAX_CHARS = 500;

/** Frames /streams/auto holds while it has not recognised the provider; then it refuses. */
export const AUTO_DETECT_HELD_FRAMES = 4;

/** How much earlier than a Plivo stream's first frame another track's clock may start (ms). */
export const PLIVO_MAX_TRACK_LEAD_MS = 1000;

// --- answer routes and API ---

/** param.* values /twiml puts into <Parameter>s (Twilio's start carries them all). */
export const TWIML_MAX_PARAMS = 20;

/** param.* values /answer/<provider> puts into the markup (Plivo's extraHeaders is one short string). */
export const ANSWER_MAX_PARAMS = 12;

/** param.* filters on one /api/recordings query. */
export const RECORDING_MAX_PARAM_FILTERS = 16;

// --- catalog and webhooks ---

/** PostgreSQL connections per process: a few queries at a time per recording start and end. */
export const PG_POOL_MAX = 10;

/** Recordings retention deletes per round, so one round never holds the database long. */
export const RETENTION_BATCH = 100;

/** Webhook deliveries in flight at once, all receivers together. */
export const WEBHOOK_MAX_IN_FLIGHT = 32;

/** Webhook deliveries in flight at once to one URL: a slow receiver holds only these. */
export const WEBHOOK_MAX_IN_FLIGHT_PER_URL = 4;

/** A request one node makes to another (live list, pause, resume) gives up after this long. */
export const CLUSTER_REQUEST_TIMEOUT_MS = 2000;

/** How long a presigned URL of an uploaded file (the audio route's ?redirect=1) works. */
export const PRESIGNED_URL_TTL_S = 300;

/** Post-call jobs one node runs at once (all kinds; uploads and transcription have their own bounds too). */
export const JOBS_AT_ONCE = 4;
/**
 * A job claimed by a process is its own for this long, renewed every JOB_LEASE_RENEW_MS while
 * it runs: a process that dies gives its jobs up within a lease (at once when it restarts).
 */
export const JOB_LEASE_MS = 60_000;
export const JOB_LEASE_RENEW_MS = 20_000;
/** Nudges of the pipeline within this long make one claiming round. */
export const NUDGE_COALESCE_MS = 25;
/**
 * How often a claiming round also makes due every waiting job of the node's spool whose
 * earlier stages settled (JobsRepo.promoteWaiting): the net under the promotion that
 * settling does, for a job queued on another node at the moment its earlier stage settled.
 */
export const PROMOTE_SWEEP_MS = 30_000;
/** Longest wait between attempts at a step that keeps failing (an upload: UPLOAD_RETRY_MAX_MS). */
export const JOB_RETRY_MAX_MS = 10 * 60 * 1000;
export const UPLOAD_RETRY_MAX_MS = 5 * 60 * 1000;
/** Tasks waiting for the pipeline's worker threads; more are refused (the job is tried again later). */
export const WORKER_QUEUE_MAX = 64;

/** Longest piece of a track sent for transcription (vLLM refuses more than 600 s by default). */
export const STT_PIECE_MAX_MS = 10 * 60 * 1000;
/** Largest piece sent (OpenAI refuses more than 25 MB). */
export const STT_PIECE_MAX_BYTES = 24 * 1024 * 1024;
/** Largest answer read from a speech-to-text server (an hour of words is well under 2 MB). */
export const STT_ANSWER_MAX_BYTES = 16 * 1024 * 1024;

/** Search: the longest query, and the most words or phrases in it. */
export const SEARCH_MAX_QUERY_CHARS = 200;
export const SEARCH_MAX_TERMS = 8;
/** Hits listed per recording in a search result. */
export const SEARCH_MATCHES_PER_RECORDING = 3;

/** Peaks read or computed at once (a 4-hour call's are 2.9 MB), and how many more may wait. */
export const PEAKS_LOADS_AT_ONCE = 2;
export const PEAKS_LOADS_WAITING = 16;
/** The most buckets a peaks request may ask for (a 4-hour call has 720,000 of 20 ms). */
export const PEAKS_MAX_BUCKETS = 1_000_000;

/** How often objects in the bucket that no recording points at are looked for and removed. */
export const ORPHAN_SWEEP_INTERVAL_MS = 3600 * 1000;
/** An object written more recently than this is never taken for an orphan (an upload may be putting it). */
export const ORPHAN_GRACE_MS = 3600 * 1000;

/** First wait before a failed catalog write is tried again; doubles up to the max. */
export const CATALOG_RETRY_BASE_MS = 200;
export const CATALOG_RETRY_MAX_MS = 10_000;

// --- dashboard ---

/** How long a dashboard sign-in (the session cookie) is honoured. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** Failed dashboard sign-ins a client may make per window before it is refused for the rest of it. */
export const SIGN_IN_MAX_FAILURES = 10;
export const SIGN_IN_WINDOW_MS = 60_000;
/** Clients whose failed sign-ins are remembered at once (the oldest is forgotten first). */
export const SIGN_IN_MAX_TRACKED = 10_000;

/** An API token shorter than this is warned about at start-up. */
export const WEAK_TOKEN_CHARS = 16;

/** A session cookie's value is short; a longer Cookie value is not ours and is not read. */
export const SESSION_COOKIE_MAX_CHARS = 200;

// --- calltape simulate ---

/** Requests the check of what was recorded keeps in flight against the server's API. */
export const SIMULATE_CHECK_CONCURRENCY = 8;
/** Each of those requests is given up after this long. */
export const SIMULATE_CHECK_REQUEST_TIMEOUT_MS = 10_000;
/** Largest answer read from a chat server (a summary is a few KB). */
export const SUMMARY_ANSWER_MAX_BYTES = 1024 * 1024;
/** Requests one summary may take (parts of a long transcript and their combining): beyond, the transcript's tail is left out. */
export const SUMMARY_MAX_REQUESTS = 24;

/**
 * A ranged read of an audio file that does not start at byte 0 (a player's next piece, a seek)
 * is the read the client's last logged read of that file began, when that was this recent:
 * one audit entry per playback, not one per range (catalog/audit-log.ts).
 */
export const AUDIT_RANGE_COALESCE_MS = 10 * 60 * 1000;
/** How many clients' recent reads the coalescing remembers (the oldest are forgotten, and then logged again). */
export const AUDIT_RANGE_COALESCE_MAX = 10_000;
/** How old an entry a relayed request may claim (the relay takes milliseconds). */
export const AUDIT_RELAY_CLAIM_MS = 60_000;

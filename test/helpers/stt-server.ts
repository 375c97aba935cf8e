/**
 * A real OpenAI-compatible speech-to-text server on 127.0.0.1 for the tests: it reads the
 * multipart request the way the real servers do, "hears" the test audio (tone bursts, one
 * word per burst, the word given by the tone's pitch: tone-words.ts) and answers in the
 * dialect it is set to, shaped like that server's fixture in test/fixtures/stt (each citing
 * its source). Faults on demand: down, slow, 429 with Retry-After, 500, 401, malformed JSON,
 * a 50 MB answer.
 */
import http from 'node:http';
import { listenOnLoopback } from './loopback.js';
import { hearWords, type HeardWord } from './tone-words.js';

export const STT_DIALECTS = ['openai', 'whispercpp', 'vllm', 'localai', 'speaches'] as const;
export type SttDialect = (typeof STT_DIALECTS)[number];

export type SttFault = { kind: 'pass' } | { kind: 'status'; status: number; retryAfter?: string; body?: string } | { kind: 'malformed' } | { kind: 'huge' } | { kind: 'slow'; ms: number } | { kind: 'hangup' };

export interface SttRequest {
  readonly model: string;
  readonly responseFormat: string;
  readonly granularities: string[];
  readonly language: string | null;
  readonly authorization: string | undefined;
  readonly fileName: string;
  readonly sampleRate: number;
  readonly samples: Int16Array;
  readonly durationMs: number;
  readonly answeredWith: number;
}

export interface SttServer {
  readonly url: string;
  dialect: SttDialect;
  readonly requests: SttRequest[];
  /** Faults for the next requests, one each, in order. */
  readonly faults: SttFault[];
  /** Delay before every answer. */
  delayMs: number;
  /**
   * Sentences to say instead of a run of tone words (keyed by the words, space-separated),
   * their words spread over the run's time: readable transcripts for the screenshots.
   */
  readonly phrases: Map<string, string>;
  close(): Promise<void>;
}

/** Each run of words that `phrases` names, replaced by the sentence, its words spread over the run. */
export function sayPhrases(words: HeardWord[], phrases: ReadonlyMap<string, string>): HeardWord[] {
  if (phrases.size === 0) return words;
  return segmentsOf(words).flatMap((run) => {
    const sentence = phrases.get(run.map((w) => w.text).join(' '));
    if (!sentence) return run;
    const said = sentence.split(' ');
    const from = run[0]!.startMs;
    const step = (run[run.length - 1]!.endMs - from) / said.length;
    return said.map((text, i) => ({ text, startMs: Math.round(from + i * step), endMs: Math.round(from + (i + 1) * step) }));
  });
}

/** Groups heard words into segments: a pause of 500 ms or more starts a new one. */
function segmentsOf(words: HeardWord[]): HeardWord[][] {
  const segments: HeardWord[][] = [];
  for (const word of words) {
    const current = segments[segments.length - 1];
    if (current && word.startMs - current[current.length - 1]!.endMs < 500) current.push(word);
    else segments.push([word]);
  }
  return segments;
}

const s = (ms: number) => Math.round(ms) / 1000;

/** The answer `dialect` gives for these words, in a piece of `durationMs`. */
export function renderAnswer(dialect: SttDialect, words: HeardWord[], durationMs: number): unknown {
  const segments = segmentsOf(words);
  const text = segments.map((seg) => seg.map((w) => w.text).join(' ')).join(' ');
  const base = (seg: HeardWord[], id: number) => ({
    id,
    seek: 0,
    start: s(seg[0]!.startMs),
    end: s(seg[seg.length - 1]!.endMs),
    text: ` ${seg.map((w) => w.text).join(' ')}`,
    tokens: seg.map((_, i) => 1000 + i),
    temperature: 0,
    avg_logprob: -0.25,
    compression_ratio: 1.2,
    no_speech_prob: 0.01,
  });
  switch (dialect) {
    case 'openai':
      // A server's own `duration` is not to be trusted: this one overstates it.
      return { task: 'transcribe', language: 'english', duration: s(durationMs + 5000), text, words: words.map((w) => ({ word: w.text, start: s(w.startMs), end: s(w.endMs) })), segments: segments.map(base) };
    case 'whispercpp':
      return {
        task: 'transcribe',
        language: 'english',
        duration: s(durationMs),
        text: ` ${text}\n`,
        detected_language: 'english',
        detected_language_probability: 0.97,
        language_probabilities: { en: 0.97 },
        segments: segments.map((seg, id) => ({
          id,
          text: ` ${seg.map((w) => w.text).join(' ')}`,
          start: s(seg[0]!.startMs),
          end: s(seg[seg.length - 1]!.endMs),
          tokens: seg.map((_, i) => 2000 + i),
          // One entry per token: a special token, then each word in two pieces (the second without a leading space).
          words: [
            { word: '[_BEG_]', start: s(seg[0]!.startMs), end: s(seg[0]!.startMs), t_dtw: -1, probability: 0.5 },
            ...seg.flatMap((w) => {
              const cut = Math.ceil(w.text.length / 2);
              const middle = Math.round((w.startMs + w.endMs) / 2);
              return [
                { word: ` ${w.text.slice(0, cut)}`, start: s(w.startMs), end: s(middle), t_dtw: -1, probability: 0.9 },
                ...(cut < w.text.length ? [{ word: w.text.slice(cut), start: s(middle), end: s(w.endMs), t_dtw: -1, probability: 0.9 }] : []),
              ];
            }),
          ],
          temperature: 0,
          avg_logprob: -0.2,
          no_speech_prob: 0.01,
        })),
      };
    case 'vllm':
      return { language: 'en', duration: String(s(durationMs)), text, segments: segments.map(base), words: words.map((w) => ({ word: w.text, start: s(w.startMs), end: s(w.endMs) })) };
    case 'localai':
      return {
        segments: segments.map((seg, id) => ({ id, start: seg[0]!.startMs * 1_000_000, end: seg[seg.length - 1]!.endMs * 1_000_000, text: ` ${seg.map((w) => w.text).join(' ')}`, tokens: [] })),
        text,
      };
    case 'speaches':
      return {
        task: 'transcribe',
        language: 'en',
        duration: s(durationMs),
        text,
        words: null,
        segments: segments.map((seg, id) => ({ ...base(seg, id), words: seg.map((w) => ({ start: null, end: null, word: ` ${w.text}`, probability: 0.9 })) })),
      };
  }
}

/** The samples of a 16-bit PCM mono WAV (what calltape sends). */
function readWav(bytes: Buffer): { sampleRate: number; samples: Int16Array } {
  if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.readUInt16LE(20) !== 1 || bytes.readUInt16LE(22) !== 1 || bytes.readUInt16LE(34) !== 16) throw new Error('not a 16-bit PCM mono WAV');
  const sampleRate = bytes.readUInt32LE(24);
  const dataBytes = bytes.readUInt32LE(40);
  const samples = new Int16Array(dataBytes / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(44 + i * 2);
  return { sampleRate, samples };
}

export async function startSttServer(dialect: SttDialect = 'openai'): Promise<SttServer> {
  const requests: SttRequest[] = [];
  const faults: SttFault[] = [];
  const phrases = new Map<string, string>();
  const state = { dialect, delayMs: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions') {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
          return;
        }
        // The multipart body parsed by the platform's own parser, as a real server would.
        const form = await new Request('http://stt.test/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: Buffer.concat(chunks) }).formData();
        const file = form.get('file') as File;
        const { sampleRate, samples } = readWav(Buffer.from(await file.arrayBuffer()));
        const durationMs = Math.round((samples.length * 1000) / sampleRate);
        const fault = faults.shift();
        const answeredWith = fault?.kind === 'status' ? fault.status : 200;
        requests.push({
          model: String(form.get('model')),
          responseFormat: String(form.get('response_format')),
          granularities: form.getAll('timestamp_granularities[]').map(String),
          language: form.get('language') === null ? null : String(form.get('language')),
          authorization: req.headers.authorization,
          fileName: file.name,
          sampleRate,
          samples,
          durationMs,
          answeredWith,
        });
        if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
        if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
        if (fault?.kind === 'hangup') {
          req.socket.destroy();
          return;
        }
        if (fault?.kind === 'status') {
          res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
          res.end(fault.body ?? JSON.stringify({ error: { message: `fault ${fault.status}`, type: 'server_error' } }));
          return;
        }
        if (fault?.kind === 'malformed') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"text": "half an answ');
          return;
        }
        if (fault?.kind === 'huge') {
          // 50 MB of a valid-looking answer, streamed without a length.
          res.writeHead(200, { 'content-type': 'application/json' });
          const block = Buffer.alloc(1024 * 1024, 'a');
          res.write('{"text": "');
          for (let i = 0; i < 50 && !res.destroyed; i++) if (!res.write(block)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
          res.end('"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(renderAnswer(state.dialect, sayPhrases(hearWords(samples, sampleRate), phrases), durationMs)));
      })().catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err) } }));
      });
    });
  });
  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get dialect() {
      return state.dialect;
    },
    set dialect(value: SttDialect) {
      state.dialect = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    requests,
    faults,
    phrases,
    close,
  };
}

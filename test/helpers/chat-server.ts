/**
 * A real OpenAI-compatible chat server on 127.0.0.1 for the tests: POST /v1/chat/completions
 * read as the real servers read it, answered in the dialect it is set to, shaped like that
 * server's fixture in test/fixtures/llm (each citing its source). The "model" summarises
 * deterministically from the transcript it is sent (the words it finds there), so a test
 * can tell a summary of this call from any other text. Faults on demand: 429 with
 * Retry-After, 500, 401, a slow answer, an answer that is not the schema.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listenOnLoopback } from './loopback.js';

export const CHAT_DIALECTS = ['openai', 'ollama', 'llamacpp-think'] as const;
export type ChatDialect = (typeof CHAT_DIALECTS)[number];

export type ChatFault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'slow'; ms: number }
  | { kind: 'nonconforming'; content: string };

export interface ChatRequest {
  readonly model: string;
  readonly authorization: string | undefined;
  readonly system: string;
  readonly user: string;
  readonly responseFormat: { type?: string; json_schema?: { name?: string; strict?: boolean; schema?: Record<string, unknown> } } | undefined;
  readonly temperature: unknown;
  readonly stream: unknown;
}

export interface ChatServer {
  url: string;
  dialect: ChatDialect;
  readonly requests: ChatRequest[];
  readonly faults: ChatFault[];
  /** When set, the summary every answer carries (a screenshot's readable call), instead of one made from the transcript. */
  answer: Record<string, unknown> | undefined;
  /** When set, requests without `Authorization: Bearer <it>` are refused 401 (an OpenAI-style error). */
  requiredKey: string | undefined;
  close: () => Promise<void>;
}

const fixtureDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/llm');
const fixture = (dialect: ChatDialect) => JSON.parse(fs.readFileSync(path.join(fixtureDir, `${dialect}.json`), 'utf8')) as Record<string, unknown>;

/** The "model": a summary that names the words the transcript (or the parts' summaries) hold. */
function summarise(user: string): Record<string, unknown> {
  const lines = user.split('\n').filter((l) => /^\[\d+:\d\d\] /.test(l));
  const partSummaries = user.split('\n').filter((l) => l.startsWith('{'));
  const said = lines.map((l) => l.replace(/^\[\d+:\d\d\] /, ''));
  // A part's summary as sent: its JSON, or (cut to fit) the start of it.
  const partText = (line: string) => {
    try {
      return (JSON.parse(line) as { summary: string }).summary;
    } catch {
      return line.slice(0, 80);
    }
  };
  const summary = partSummaries.length > 0 ? `Combined ${partSummaries.length} parts: ${partSummaries.map(partText).join(' | ')}` : `Call of ${said.length} utterances: ${said.join(' / ')}`;
  return {
    summary: summary.slice(0, 2000),
    reason: said.find((l) => l.startsWith('caller:'))?.slice(8) ?? 'unclear',
    outcome: said.some((l) => /cancel/.test(l)) ? 'payment cancelled' : 'unclear',
    actionItems: said.some((l) => /refund/.test(l)) ? ['send the refund confirmation'] : [],
    sentiment: { caller: 'neutral', agent: 'positive' },
  };
}

export async function startChatServer(dialect: ChatDialect = 'openai'): Promise<ChatServer> {
  // The server the test holds: its settings are read by each request as it comes.
  const chat: ChatServer = { url: '', dialect, requests: [], faults: [], answer: undefined, requiredKey: undefined, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.url}`, type: 'not_found_error' } }));
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string; messages: Array<{ role: string; content: string }>; response_format?: ChatRequest['responseFormat']; temperature?: unknown; stream?: unknown };
        const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
        chat.requests.push({
          model: body.model,
          authorization: req.headers.authorization,
          system: body.messages.find((m) => m.role === 'system')?.content ?? '',
          user,
          responseFormat: body.response_format,
          temperature: body.temperature,
          stream: body.stream,
        });
        if (chat.requiredKey && req.headers.authorization !== `Bearer ${chat.requiredKey}`) {
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'invalid api key', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }));
          return;
        }
        const fault = chat.faults.shift();
        if (fault?.kind === 'status') {
          res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
          res.end(fault.body ?? JSON.stringify({ error: { message: `fault ${fault.status}`, type: 'api_error', param: null, code: null } }));
          return;
        }
        if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
        const answer = JSON.stringify(chat.answer ?? summarise(user));
        const content = fault?.kind === 'nonconforming' ? fault.content : chat.dialect === 'llamacpp-think' ? `<think>\nThe user wants a JSON summary.\n</think>\n${answer}` : answer;
        const out = fixture(chat.dialect);
        delete out._source;
        const choices = out.choices as Array<{ message: Record<string, unknown> }>;
        choices[0]!.message.content = content;
        out.model = body.model;
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      })();
    });
  });
  server.keepAliveTimeout = 1000;
  const { port, close } = await listenOnLoopback(server);
  return Object.assign(chat, { url: `http://127.0.0.1:${port}/v1`, close });
}

/**
 * One request to an OpenAI-compatible chat server: POST {base}/chat/completions with a
 * `response_format` of type json_schema (the shape Ollama reads: openai/openai.go
 * ResponseFormat{type, json_schema{schema}}; OpenAI and vLLM read the same, with name and
 * strict), temperature 0, no streaming. Resolves with the first choice's text.
 */
import { SUMMARY_ANSWER_MAX_BYTES } from '../limits.js';
import { postToService, ServiceError } from '../openai/http.js';
import { redactUrl } from '../redact.js';

export interface ChatServer {
  /** Base URL ending in /v1. */
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string | undefined;
  readonly timeoutMs: number;
}

export interface ChatMessage {
  readonly role: 'system' | 'user';
  readonly content: string;
}

export function chatUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}/chat/completions`;
}

export async function requestChat(server: ChatServer, messages: readonly ChatMessage[], schema: object, signal?: AbortSignal): Promise<string> {
  const body = JSON.stringify({
    model: server.model,
    messages,
    temperature: 0,
    stream: false,
    response_format: { type: 'json_schema', json_schema: { name: 'call_summary', strict: true, schema } },
  });
  const answer = await postToService(chatUrl(server.url), { body, apiKey: server.apiKey, timeoutMs: server.timeoutMs, maxBytes: SUMMARY_ANSWER_MAX_BYTES, signal });
  const choice = (answer as { choices?: Array<{ message?: { content?: unknown; refusal?: unknown } }> } | null)?.choices?.[0];
  const content = choice?.message?.content;
  if (typeof content === 'string') return content;
  // A refusal (OpenAI's structured outputs) is an answer, if not a summary.
  if (typeof choice?.message?.refusal === 'string') return choice.message.refusal;
  throw new ServiceError(`${redactUrl(chatUrl(server.url))} answered without a chat completion's choices[0].message.content`, true);
}

/**
 * One request to an OpenAI-compatible speech-to-text server: POST {base}/audio/transcriptions
 * as multipart (file, model, response_format=verbose_json, timestamp_granularities[] segment
 * and word, language), with Node's own fetch and FormData (the `openai` SDK needs Node 22);
 * bounds and failures as every request to such a server (openai/http.ts).
 */
import { STT_ANSWER_MAX_BYTES } from '../limits.js';
import { postToService } from '../openai/http.js';

export interface SttServer {
  /** Base URL ending in /v1. */
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string | undefined;
  readonly language?: string | undefined;
  readonly timeoutMs: number;
}

export function transcriptionsUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}/audio/transcriptions`;
}

/** Sends one WAV piece; resolves with the parsed JSON answer. */
export async function requestTranscription(server: SttServer, wav: Uint8Array, name: string, signal?: AbortSignal): Promise<unknown> {
  const form = new FormData();
  form.append('file', new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }), name);
  form.append('model', server.model);
  form.append('response_format', 'verbose_json');
  form.append('timestamp_granularities[]', 'segment');
  form.append('timestamp_granularities[]', 'word');
  form.append('temperature', '0');
  if (server.language) form.append('language', server.language);
  return postToService(transcriptionsUrl(server.url), { body: form, apiKey: server.apiKey, timeoutMs: server.timeoutMs, maxBytes: STT_ANSWER_MAX_BYTES, signal });
}

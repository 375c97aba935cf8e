/**
 * A call's summary from its transcript: the speaker-labelled lines (and the talk figures,
 * when analytics exist) sent to the chat server with the instructions. A transcript longer
 * than the model's budget (CALLTAPE_SUMMARY_MAX_INPUT_TOKENS) is cut into parts at line
 * boundaries, each part summarised, and the parts' summaries combined in as few further
 * requests as fit, so no request carries more than the budget.
 */
import type { Analytics } from '../analytics/analyze-recording.js';
import { SUMMARY_MAX_REQUESTS } from '../limits.js';
import type { Transcript } from '../transcribe/transcript.js';
import { requestChat, type ChatMessage, type ChatServer } from './chat-client.js';
import { parseSummary, SUMMARY_SCHEMA, type Summary } from './summary.js';

export const DEFAULT_INSTRUCTIONS = `You summarise recorded phone calls for a contact-centre team.
You get the call's transcript, one line per utterance: [minutes:seconds] speaker: words.
The caller is the person who called; the agent answered (a person or a voice bot).
Write only what the transcript supports; say "unclear" rather than guess.
Answer with one JSON object with exactly these fields:
summary (two to four sentences), reason (why the caller called), outcome (how the call ended),
actionItems (what someone must still do, a list of short strings, empty if nothing),
sentiment ({"caller": …, "agent": …}, each positive, neutral, negative or mixed).`;

/** The talk figures (analytics) as one line of context for the model. */
export function talkContext(analytics: Pick<Analytics, 'talkPercent' | 'silencePercent' | 'interruptions'>): string {
  const { talkPercent: t, interruptions: i } = analytics;
  return `caller talked ${t.caller}% of the call, agent ${t.agent}%, silence ${analytics.silencePercent}%; interruptions: caller ${i.caller}, agent ${i.agent}.`;
}

/** Tokens are estimated at 4 characters each (no tokenizer of the operator's model is at hand): English text runs 3.5–4.5. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function transcriptLines(transcript: Transcript): string[] {
  return transcript.segments.filter((s) => s.text.trim()).map((s) => `[${clock(s.startMs)}] ${s.speaker}: ${s.text.trim()}`);
}

/** Lines grouped into parts of at most `budget` tokens each (a single longer line is cut). */
export function splitToBudget(lines: readonly string[], budget: number): string[] {
  const parts: string[] = [];
  let current: string[] = [];
  let tokens = 0;
  for (const whole of lines) {
    const line = estimateTokens(whole) > budget ? whole.slice(0, budget * 4) : whole;
    const cost = estimateTokens(line) + 1;
    if (tokens + cost > budget && current.length > 0) {
      parts.push(current.join('\n'));
      current = [];
      tokens = 0;
    }
    current.push(line);
    tokens += cost;
  }
  if (current.length > 0) parts.push(current.join('\n'));
  return parts;
}

export interface SummarizeInput {
  readonly transcript: Transcript;
  readonly server: ChatServer;
  /** Replaces DEFAULT_INSTRUCTIONS (CALLTAPE_SUMMARY_PROMPT_FILE). */
  readonly instructions?: string | undefined;
  /** Transcript tokens per request (the instructions and figures come on top). */
  readonly maxInputTokens: number;
  /** One line of talk figures given to the model as context ("caller talked 40%…"). */
  readonly context?: string | undefined;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export async function summarizeTranscript(input: SummarizeInput): Promise<Summary> {
  const instructions = input.instructions ?? DEFAULT_INSTRUCTIONS;
  const system = `${instructions}\n\nThe JSON schema of the answer:\n${JSON.stringify(SUMMARY_SCHEMA)}`;
  const lines = transcriptLines(input.transcript);
  const inputTokens = estimateTokens(lines.join('\n'));
  let parts = splitToBudget(lines, input.maxInputTokens);
  // Past the request bound the tail is left out, and the summary says so.
  let truncated = parts.length > SUMMARY_MAX_REQUESTS - 1;
  if (truncated) parts = parts.slice(0, Math.max(1, Math.floor(SUMMARY_MAX_REQUESTS / 2)));
  let requests = 0;
  const total = parts.length === 1 ? 1 : parts.length + Math.ceil(parts.length / 2);
  const ask = async (user: string): Promise<string> => {
    const messages: ChatMessage[] = [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ];
    const text = await requestChat(input.server, messages, SUMMARY_SCHEMA, input.signal);
    requests++;
    input.onProgress?.(requests, Math.max(total, requests));
    return text;
  };
  const context = input.context ? `\nTalk figures: ${input.context}\n` : '';
  const finish = (text: string): Summary => {
    const parsed = parseSummary(text);
    const base = { version: 1 as const, streamSid: input.transcript.streamSid, model: input.server.model, server: hostOf(input.server.url), requests, inputTokens, truncated, createdAt: new Date().toISOString() };
    return 'fields' in parsed ? { ...base, state: 'ok', ...parsed.fields } : { ...base, state: 'nonconforming', raw: text.slice(0, 64 * 1024), problem: parsed.problem };
  };
  if (parts.length === 0) return finish(await ask(`The call has no words in its transcript.${context}`));
  if (parts.length === 1) return finish(await ask(`Call transcript:${context}\n${parts[0]}`));
  // Each part on its own; a part whose answer does not conform is passed on as its text.
  let summaries: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const text = await ask(`Part ${i + 1} of ${parts.length} of one call's transcript (summarise this part only):\n${parts[i]}`);
    const parsed = parseSummary(text);
    summaries.push('fields' in parsed ? JSON.stringify(parsed.fields) : text.slice(0, input.maxInputTokens * 2));
  }
  const combineAll = async (lines: string) => finish(await ask(`Summaries of the consecutive parts of one call, in order, one per line. Combine them into the summary of the whole call.${context}\n${lines}`));
  // Combined in groups that fit the budget, until one request holds them all.
  for (;;) {
    const groups = splitToBudget(summaries, input.maxInputTokens);
    if (groups.length === 1) return combineAll(groups[0]!);
    if (groups.length >= summaries.length || requests + groups.length + 1 > SUMMARY_MAX_REQUESTS) {
      // No room for another round (or a round would not shrink them: each fills a request):
      // each part's summary is cut to its share of one last request, and the summary says so.
      truncated = true;
      const share = Math.max(1, Math.floor((input.maxInputTokens * 4) / summaries.length) - 1);
      return combineAll(summaries.map((summary) => summary.slice(0, share)).join('\n'));
    }
    const next: string[] = [];
    for (const group of groups) {
      const text = await ask(`Summaries of consecutive parts of one call, in order, one per line. Combine them into one summary of these parts.\n${group}`);
      const parsed = parseSummary(text);
      next.push('fields' in parsed ? JSON.stringify(parsed.fields) : text.slice(0, input.maxInputTokens * 2));
    }
    summaries = next;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}


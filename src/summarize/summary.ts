/**
 * A recording's summary (summary.json beside its files): what the model was asked for, as a
 * JSON schema sent with the request (Ollama and llama.cpp constrain decoding to it; OpenAI
 * and vLLM honour it too), and the check of what came back. A model may still answer
 * something else (a server that ignores response_format, a model that rambles): that answer
 * is kept as raw text with state `nonconforming`, never dropped and never passed off as valid.
 */

export const SUMMARY_FILE = 'summary.json';

export const SENTIMENTS = ['positive', 'neutral', 'negative', 'mixed'] as const;
export type Sentiment = (typeof SENTIMENTS)[number];

/** The structured part of a summary. */
export interface SummaryFields {
  /** A few sentences on what the call was about and how it went. */
  summary: string;
  /** Why the caller called. */
  reason: string;
  /** How the call ended (resolved, escalated, a callback promised…). */
  outcome: string;
  actionItems: string[];
  sentiment: { caller: Sentiment; agent: Sentiment };
}

export const SUMMARY_SCHEMA = {
  type: 'object',
  properties: {
    summary: { type: 'string', description: 'Two to four sentences: what the call was about and how it went.' },
    reason: { type: 'string', description: 'Why the caller called, in one sentence.' },
    outcome: { type: 'string', description: 'How the call ended: resolved, escalated, callback promised, unresolved…' },
    actionItems: { type: 'array', items: { type: 'string' }, description: 'What someone must still do, one item each; empty if nothing.' },
    sentiment: {
      type: 'object',
      properties: { caller: { type: 'string', enum: [...SENTIMENTS] }, agent: { type: 'string', enum: [...SENTIMENTS] } },
      required: ['caller', 'agent'],
      additionalProperties: false,
    },
  },
  required: ['summary', 'reason', 'outcome', 'actionItems', 'sentiment'],
  additionalProperties: false,
} as const;

export type SummaryState = 'ok' | 'nonconforming';

export interface Summary extends Partial<SummaryFields> {
  readonly version: 1;
  readonly streamSid: string;
  /** ok: the fields are the model's, checked against SUMMARY_SCHEMA; nonconforming: see raw and problem. */
  readonly state: SummaryState;
  /** The model's answer as it came, when it did not conform. */
  readonly raw?: string;
  /** What was wrong with it. */
  readonly problem?: string;
  readonly model: string;
  /** The server's host (never its credentials or path). */
  readonly server: string;
  /** Requests it took: 1, or one per part of a long transcript plus the ones combining them. */
  readonly requests: number;
  /** The transcript's estimated tokens, and whether the tail was left out (past every budget). */
  readonly inputTokens: number;
  readonly truncated: boolean;
  readonly createdAt: string;
}

/**
 * The model's text as SummaryFields, or what is wrong with it. Reasoning models' <think>
 * blocks and Markdown code fences around the JSON are not the answer and are set aside first.
 */
export function parseSummary(text: string): { fields: SummaryFields } | { problem: string } {
  const body = text
    .replace(/<think>[\s\S]*?<\/think>/g, '')
    .trim()
    .replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1')
    .trim();
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { problem: 'the answer is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'the answer is not a JSON object' };
  const v = value as Record<string, unknown>;
  for (const key of ['summary', 'reason', 'outcome'] as const) {
    if (typeof v[key] !== 'string') return { problem: `${key} is not a string` };
  }
  if (!Array.isArray(v.actionItems) || !v.actionItems.every((item) => typeof item === 'string')) return { problem: 'actionItems is not a list of strings' };
  const sentiment = v.sentiment as Record<string, unknown> | null | undefined;
  if (typeof sentiment !== 'object' || sentiment === null) return { problem: 'sentiment is not an object' };
  for (const who of ['caller', 'agent'] as const) {
    if (!(SENTIMENTS as readonly unknown[]).includes(sentiment[who])) return { problem: `sentiment.${who} is not one of ${SENTIMENTS.join(', ')}` };
  }
  const extra = Object.keys(v).find((key) => !(key in SUMMARY_SCHEMA.properties));
  if (extra) return { problem: `${JSON.stringify(extra.slice(0, 40))} is not a field of the schema` };
  return {
    fields: {
      summary: v.summary as string,
      reason: v.reason as string,
      outcome: v.outcome as string,
      actionItems: v.actionItems as string[],
      sentiment: { caller: sentiment.caller as Sentiment, agent: sentiment.agent as Sentiment },
    },
  };
}

/** The text of a summary that search indexes (its fields, or the raw answer). */
export function summaryText(summary: Summary): string {
  if (summary.state !== 'ok') return summary.raw ?? '';
  return [summary.summary, summary.reason, summary.outcome, ...(summary.actionItems ?? [])].filter(Boolean).join('\n');
}

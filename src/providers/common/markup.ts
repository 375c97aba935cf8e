/**
 * The pieces every answer markup shares: what the answer route hands a provider's markup
 * builder, and XML or JSON bodies.
 */
export interface AnswerInput {
  /** wss:// URL of the provider's stream route. */
  readonly streamUrl: string;
  /** Custom values to deliver in the stream's start (the per-call token among them). */
  readonly params: ReadonlyArray<readonly [string, string]>;
  /** How long to keep a call that only records up (seconds). */
  readonly pauseSeconds: number;
  /** calltape's longest recording (CALLTAPE_MAX_DURATION_MS), for providers' own stream limits. */
  readonly maxDurationSeconds: number;
}

export interface Answer {
  readonly contentType: string;
  readonly body: string;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => XML_ESCAPES[ch]!);
}

export const xml = (lines: string[]): Answer => ({
  contentType: 'text/xml; charset=utf-8',
  body: `<?xml version="1.0" encoding="UTF-8"?>\n${lines.join('\n')}\n`,
});

export const json = (value: unknown): Answer => ({ contentType: 'application/json; charset=utf-8', body: `${JSON.stringify(value, null, 2)}\n` });

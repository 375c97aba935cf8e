/**
 * Configuration problems as one line each, in the user's terms: the variable or flag, the
 * value given (never a secret's), and what is allowed. Also the start-up warning for
 * CALLTAPE_* variables nobody reads (a misspelling would otherwise be silently ignored).
 */
import type { z } from 'zod';
import { redactUrl } from './redact.js';

/** Options whose values are credentials: never echoed in an error message. */
const SECRET_KEYS = new Set(['twilioAuthToken', 'streamTokenSecret', 'answerKey', 'signalwireBearerToken', 'exotelBasicAuth', 'asteriskBasicAuth', 'asteriskUrlToken', 'acsUrlToken', 'genesysApiKey', 'genesysClientSecret', 'apiToken', 'apiTokens', 'webhookSecret', 'databaseUrl']);

interface SchemaNode {
  readonly _zod: { readonly def: { readonly type: string; readonly innerType?: SchemaNode; readonly entries?: Record<string, string>; readonly options?: readonly SchemaNode[] } };
  readonly minValue?: number | null;
  readonly maxValue?: number | null;
  readonly isInt?: boolean;
  readonly minLength?: number | null;
  readonly format?: string | null;
}

function unwrap(node: SchemaNode): SchemaNode {
  let current = node;
  while (['default', 'optional', 'pipe'].includes(current._zod.def.type) && current._zod.def.innerType) current = current._zod.def.innerType;
  return current;
}

/** What a field accepts, from its schema: "an integer from 0 to 65535", "one of pcm16, mulaw"… */
export function allowedValues(field: SchemaNode | undefined, issue: z.core.$ZodIssue): string {
  const node = field && unwrap(field);
  const type = node?._zod.def.type;
  if (type === 'number') {
    const kind = node!.isInt ? 'an integer' : 'a number';
    const min = node!.minValue;
    const max = node!.maxValue;
    if (min !== null && min !== undefined && max !== null && max !== undefined && Number.isFinite(min) && Number.isFinite(max)) return `${kind} from ${min} to ${max}`;
    if (min !== null && min !== undefined && Number.isFinite(min)) return `${kind} of at least ${min}`;
    return kind;
  }
  if (type === 'enum') return `one of ${Object.values(node!._zod.def.entries ?? {}).join(', ')}`;
  if (type === 'union' && issue.code === 'invalid_union') return 'true or false';
  if (type === 'string' && issue.code === 'too_small') return `at least ${(issue as { minimum: number }).minimum} characters`;
  if (issue.code === 'invalid_format' && (issue as { format?: string }).format === 'url') return 'an absolute URL with an allowed scheme';
  // Schema messages say "must be …"; the line already reads "expected …".
  return issue.message.replace(/^Invalid input: /, '').replace(/^must be /, '');
}

export function describeValue(key: string, value: unknown): string {
  if (SECRET_KEYS.has(key)) return '(value hidden)';
  // A URL setting may carry a password or a token of its own: never echoed.
  if (typeof value === 'string') value = redactUrl(value);
  return JSON.stringify(typeof value === 'string' && value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `name`, if one is close enough to be a likely misspelling. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/**
 * Known names outside CALLTAPE_* long enough that a near miss is a likely typo
 * (TWILIO_AUTH_TOKN), not another program's variable: HOST and PORT are within two edits of
 * HOME and SORT, which every shell has.
 */
const NEAR_MISS_MIN_LENGTH = 10;

/**
 * CALLTAPE_* variables that no option reads, each with the known name it most resembles, and
 * other variables that are near misses of the long names calltape reads without its prefix
 * (TWILIO_AUTH_TOKEN, DATABASE_URL): a misspelt credential would leave a route open.
 */
export function unknownVariables(env: NodeJS.ProcessEnv, known: readonly string[]): Array<{ name: string; suggestion?: string }> {
  const unprefixed = known.filter((name) => !name.startsWith('CALLTAPE_') && name.length >= NEAR_MISS_MIN_LENGTH);
  const problems: Array<{ name: string; suggestion?: string }> = [];
  for (const name of Object.keys(env)) {
    if (known.includes(name)) continue;
    if (name.startsWith('CALLTAPE_')) {
      const suggestion = nearest(name, known);
      problems.push(suggestion ? { name, suggestion } : { name });
      continue;
    }
    const suggestion = nearest(name, unprefixed);
    if (suggestion) problems.push({ name, suggestion });
  }
  return problems;
}

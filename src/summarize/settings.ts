/**
 * Summary settings: the operator's prompt file, read once at start-up (a missing or empty
 * file stops the server with one line, rather than failing every call's summary), and the
 * settings that start but would not do what their author meant, said once.
 */
import fs from 'node:fs';
import { ConfigError, type Config } from '../config.js';

/** Largest prompt file: instructions, not a document (it is sent with every request). */
const PROMPT_MAX_BYTES = 64 * 1024;

export function readSummaryPrompt(file: string | undefined): string | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    if (fs.statSync(file).size > PROMPT_MAX_BYTES) throw new ConfigError(`CALLTAPE_SUMMARY_PROMPT_FILE ${file} is larger than ${PROMPT_MAX_BYTES / 1024} KB: it is sent with every request`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`CALLTAPE_SUMMARY_PROMPT_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!text.trim()) throw new ConfigError(`CALLTAPE_SUMMARY_PROMPT_FILE ${file} is empty`);
  return text.trim();
}

export function summaryWarnings(config: Pick<Config, 'summaryUrl' | 'summaryApiKey' | 'transcribeUrl'>): string[] {
  const warnings: string[] = [];
  if (!config.summaryUrl) {
    if (config.summaryApiKey) warnings.push('CALLTAPE_SUMMARY_API_KEY is set but CALLTAPE_SUMMARY_URL is not: no call is summarised');
    return warnings;
  }
  if (!config.transcribeUrl) warnings.push('CALLTAPE_SUMMARY_URL is set but CALLTAPE_TRANSCRIBE_URL is not: summaries are made from transcripts, so only recordings transcribed by hand (calltape transcribe) get one');
  const { pathname } = new URL(config.summaryUrl);
  if (!/\/v1\/?$/.test(pathname)) {
    warnings.push(`CALLTAPE_SUMMARY_URL is the server's base URL, ending in /v1 (e.g. http://127.0.0.1:11434/v1 for Ollama); requests go to ${pathname.replace(/\/+$/, '')}/chat/completions, which OpenAI-compatible servers do not serve`);
  }
  return warnings;
}

/**
 * Transcription settings that start but would not do what their author meant: said once at
 * start-up, rather than as a 404 from the server on every call, or as transcripts that never
 * come.
 */
import type { Config } from '../config.js';

export function transcribeWarnings(config: Pick<Config, 'transcribeUrl' | 'transcribeApiKey'>): string[] {
  const warnings: string[] = [];
  if (!config.transcribeUrl) {
    if (config.transcribeApiKey) warnings.push('CALLTAPE_TRANSCRIBE_API_KEY is set but CALLTAPE_TRANSCRIBE_URL is not: no call is transcribed');
    return warnings;
  }
  const { pathname } = new URL(config.transcribeUrl);
  // The API's base: requests go to <base>/audio/transcriptions (whisper.cpp needs --inference-path to match).
  if (!/\/v1\/?$/.test(pathname)) {
    warnings.push(`CALLTAPE_TRANSCRIBE_URL is the server's base URL, ending in /v1 (e.g. http://127.0.0.1:8000/v1); requests go to ${pathname.replace(/\/+$/, '')}/audio/transcriptions, which OpenAI-compatible servers do not serve`);
  }
  return warnings;
}

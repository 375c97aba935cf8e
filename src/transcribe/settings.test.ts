import { describe, expect, it } from 'vitest';
import { transcribeWarnings } from './settings.js';

describe('transcribeWarnings', () => {
  it('says nothing for a base URL ending in /v1, or with transcription off', () => {
    expect(transcribeWarnings({ transcribeUrl: 'http://127.0.0.1:8000/v1' })).toEqual([]);
    expect(transcribeWarnings({ transcribeUrl: 'https://api.groq.com/openai/v1/' })).toEqual([]);
    expect(transcribeWarnings({})).toEqual([]);
  });

  it('names a URL that is not the API base, and a key without a URL', () => {
    expect(transcribeWarnings({ transcribeUrl: 'http://127.0.0.1:8081' })[0]).toMatch(/ending in \/v1.*requests go to \/audio\/transcriptions/);
    expect(transcribeWarnings({ transcribeUrl: 'http://127.0.0.1:8081/inference' })[0]).toMatch(/requests go to \/inference\/audio\/transcriptions/);
    expect(transcribeWarnings({ transcribeApiKey: 'sk-x' })).toEqual(['CALLTAPE_TRANSCRIBE_API_KEY is set but CALLTAPE_TRANSCRIBE_URL is not: no call is transcribed']);
  });
});

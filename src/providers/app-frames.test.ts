import { describe, expect, it } from 'vitest';
import { anyAppFrames, plivoAppFrames, twilioAppFrames } from './app-frames.js';

const media = (event: string) => JSON.stringify({ event, media: { payload: 'AAAA' } });

describe('application frames, by provider', () => {
  it("reads each provider's own names, and refuses the other's", () => {
    expect(twilioAppFrames(media('media'))).toEqual({ type: 'media', payload: 'AAAA' });
    expect(twilioAppFrames(JSON.stringify({ event: 'mark', mark: { name: 'x' } }))).toEqual({ type: 'mark', name: 'x' });
    expect(twilioAppFrames('{"event":"clear"}')).toEqual({ type: 'clear' });
    expect(twilioAppFrames(media('playAudio'))).toMatchObject({ code: 'CALLTAPE_ERR_UNKNOWN_EVENT' });
    expect(plivoAppFrames(media('playAudio'))).toEqual({ type: 'media', payload: 'AAAA' });
    expect(plivoAppFrames(JSON.stringify({ event: 'checkpoint', name: 'y' }))).toEqual({ type: 'mark', name: 'y' });
    expect(plivoAppFrames(media('media'))).toMatchObject({ code: 'CALLTAPE_ERR_UNKNOWN_EVENT' });
    expect(anyAppFrames(media('playAudio'))).toMatchObject({ type: 'media' });
  });

  it('rejects what is not a frame, with a code', () => {
    expect(twilioAppFrames('nope')).toMatchObject({ code: 'CALLTAPE_ERR_INVALID_JSON' });
    expect(twilioAppFrames('[1]')).toMatchObject({ code: 'CALLTAPE_ERR_UNKNOWN_EVENT' });
    expect(twilioAppFrames('{"event":"media","media":{"payload":"!!"}}')).toMatchObject({ code: 'CALLTAPE_ERR_BAD_BASE64' });
    expect(twilioAppFrames(JSON.stringify({ event: 'mark', mark: { name: 'x'.repeat(2000) } }))).toMatchObject({ code: 'CALLTAPE_ERR_BAD_SHAPE' });
  });
});

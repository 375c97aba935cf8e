import { describe, expect, it } from 'vitest';
import { createAsteriskParser } from './parse.js';

const mediaStart = (variables: Record<string, string>) =>
  JSON.stringify({ event: 'MEDIA_START', connection_id: 'c0ffee00-0000-4000-8000-000000000001', channel: 'WebSocket/snoop', channel_id: 'pbx1-9.1', format: 'ulaw', optimal_frame_size: 160, ptime: 20, channel_variables: variables });

describe('Asterisk parser: a direction of a joined call', () => {
  it('names the direction and the join key from CALLTAPE_TRACK and CALLTAPE_CALL_ID, and puts the audio on that track', () => {
    const parser = createAsteriskParser();
    expect(parser.parseText(mediaStart({ CALLTAPE_CALL_ID: 'call-42', CALLTAPE_TRACK: 'outbound' }))).toMatchObject({ type: 'start', callId: 'call-42', tracks: ['outbound'], join: { key: 'call-42', track: 'outbound' } });
    expect(parser.parseBinary(Buffer.alloc(160))).toMatchObject({ type: 'audio', track: 'outbound' });
  });

  it('joins nothing without a call id (the direction only labels the track), and refuses a direction that is neither inbound nor outbound', () => {
    const alone = createAsteriskParser().parseText(mediaStart({ CALLTAPE_TRACK: 'outbound' }));
    expect(alone).toMatchObject({ type: 'start', tracks: ['outbound'] });
    expect(alone).not.toHaveProperty('join');
    expect(createAsteriskParser().parseText(mediaStart({ CALLTAPE_CALL_ID: 'call-42', CALLTAPE_TRACK: 'both' }))).toMatchObject({ code: 'CALLTAPE_ERR_BAD_SHAPE' });
  });
});

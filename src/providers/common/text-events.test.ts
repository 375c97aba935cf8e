import { describe, expect, it } from 'vitest';
import { textFrameEvent } from './text-events.js';

describe('textFrameEvent', () => {
  it('reads DTMF in the shapes the binary protocols send, converting the duration when told how', () => {
    expect(textFrameEvent('{"event":"dtmf","dtmf":"5","duration":"1600"}', 'jambonz', (raw) => Number(raw) / 8)).toEqual({ type: 'dtmf', digit: '5', durationMs: 200 });
    expect(textFrameEvent('{"dtmf":{"digit":"#"}}', 'FreeSWITCH')).toEqual({ type: 'dtmf', digit: '#' });
  });

  it('reads marks', () => {
    expect(textFrameEvent('{"type":"mark","data":{"name":"greeting","event":"playout"}}', 'jambonz')).toEqual({ type: 'mark', name: 'greeting' });
    expect(textFrameEvent('{"event":"mark","name":"x"}', 'jambonz')).toEqual({ type: 'mark', name: 'x' });
  });

  it('keeps anything else as a notice, cut to a bounded length', () => {
    expect(textFrameEvent('agent joined', 'FreeSWITCH')).toEqual({ type: 'notice', level: 'info', message: 'FreeSWITCH text frame: agent joined' });
    const long = textFrameEvent('x'.repeat(10_000), 'FreeSWITCH') as { message: string };
    expect(long.message.length).toBeLessThan(600);
    // A digit that is not one stays a notice rather than a wrong DTMF.
    expect(textFrameEvent('{"event":"dtmf","dtmf":"Z"}', 'jambonz')).toMatchObject({ type: 'notice' });
  });
});

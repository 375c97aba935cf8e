import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../errors.js';
import { LOGGED_REJECTIONS_PER_CODE, MAX_EVENTS_KEPT, MAX_NOTICES_KEPT } from '../limits.js';
import { StreamLog } from './stream-log.js';

function setup() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const counted: ErrorCode[] = [];
  return { stream: new StreamLog(log, (code) => counted.push(code)), lines, counted };
}

describe('StreamLog', () => {
  it('counts every rejection, and logs only the first few of each code', () => {
    const { stream, lines, counted } = setup();
    for (let i = 0; i < 20; i++) stream.reject({ code: 'CALLTAPE_ERR_BAD_SHAPE', detail: `frame ${i}` });
    stream.reject({ code: 'CALLTAPE_ERR_INVALID_JSON', detail: 'x' }, 'debug');
    expect(stream.rejections).toEqual({ CALLTAPE_ERR_BAD_SHAPE: 20, CALLTAPE_ERR_INVALID_JSON: 1 });
    expect(counted).toHaveLength(21);
    const shapes = lines.filter((l) => l.code === 'CALLTAPE_ERR_BAD_SHAPE');
    expect(shapes).toHaveLength(LOGGED_REJECTIONS_PER_CODE);
    expect(String(shapes.at(-1)!.msg)).toContain('further occurrences are only counted');
    expect(lines.find((l) => l.code === 'CALLTAPE_ERR_INVALID_JSON')!.level).toBe(20);
  });

  it("keeps fewer notices: each holds up to 500 characters of the sender's text", () => {
    const { stream } = setup();
    for (let i = 0; i < MAX_NOTICES_KEPT + 5; i++) stream.keep(stream.notices, { message: 'x'.repeat(500), atMs: i, receivedAt: '' });
    expect(stream.notices).toHaveLength(MAX_NOTICES_KEPT);
    expect(stream.rejections.CALLTAPE_ERR_TOO_MANY_EVENTS).toBe(5);
  });

  it('keeps events up to the cap, then counts them as CALLTAPE_ERR_TOO_MANY_EVENTS', () => {
    const { stream } = setup();
    for (let i = 0; i < MAX_EVENTS_KEPT; i++) expect(stream.keep(stream.dtmf, { digit: '1', atMs: i, receivedAt: '' })).toBe(true);
    expect(stream.keep(stream.dtmf, { digit: '2', atMs: 0, receivedAt: '' })).toBe(false);
    expect(stream.dtmf).toHaveLength(MAX_EVENTS_KEPT);
    expect(stream.rejections.CALLTAPE_ERR_TOO_MANY_EVENTS).toBe(1);
  });
});

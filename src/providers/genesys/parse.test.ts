import { describe, expect, it } from 'vitest';
import { AudioHookClient, audioHookIds, EXTERNAL_OFFER, STEREO_OFFER } from '../../../test/helpers/audiohook.js';
import { isRejection, type ParseOutput, type ParseResult } from '../../events.js';
import { createGenesysParser } from './parse.js';

const list = (output: ParseOutput): ParseResult[] => (Array.isArray(output) ? [...output] : [output as ParseResult]);
const replies = (results: ParseResult[]) => results.flatMap((r) => (!isRejection(r) && r.type === 'reply' ? [JSON.parse(r.text) as Record<string, unknown>] : []));
const kinds = (results: ParseResult[]) => results.map((r) => (isRejection(r) ? r.code : r.type));

function session(query = '') {
  const ids = audioHookIds();
  const client = new AudioHookClient(ids);
  const parser = createGenesysParser({ headers: { 'audiohook-session-id': ids.sessionId, 'audiohook-organization-id': ids.organizationId }, query: new URLSearchParams(query) });
  const send = (text: string) => list(parser.parseText(text));
  return { ids, client, parser, send };
}

describe('AudioHook parser', () => {
  it('answers open with opened naming the stereo offer, ping with pong and close with closed, numbered as the protocol requires', () => {
    const { ids, client, parser, send } = session();
    const opened = send(client.open([EXTERNAL_OFFER, STEREO_OFFER]));
    expect(kinds(opened)).toEqual(['start', 'reply']);
    expect(replies(opened)).toEqual([{ version: '2', id: ids.sessionId, type: 'opened', seq: 1, clientseq: 1, parameters: { media: [STEREO_OFFER], startPaused: false } }]);
    client.serverseq = 1;
    expect(list(parser.parseBinary(Buffer.alloc(320)))).toHaveLength(2);
    expect(replies(send(client.message('ping', 'PT0.02S', {})))).toEqual([{ version: '2', id: ids.sessionId, type: 'pong', seq: 2, clientseq: 2, parameters: {} }]);
    client.serverseq = 2;
    const closed = send(client.message('close', 'PT0.02S', { reason: 'end' }));
    expect(replies(closed)).toEqual([{ version: '2', id: ids.sessionId, type: 'closed', seq: 3, clientseq: 3, parameters: {} }]);
    expect(kinds(closed)).toEqual(['reply', 'stop']);
    expect(list(parser.parseBinary(Buffer.alloc(320)))).toEqual([expect.objectContaining({ code: 'CALLTAPE_ERR_AFTER_STOP' })]);
    // Closed: calltape has nothing more to say when it closes the socket.
    expect(parser.closingFrame!('stop')).toBeUndefined();
  });

  it('splits interleaved external/internal PCMU into inbound and outbound, placed by counted samples', () => {
    const { client, parser, send } = session();
    const [start] = send(client.open([STEREO_OFFER]));
    expect(start).toMatchObject({ type: 'start', tracks: ['inbound', 'outbound'], format: { encoding: 'mulaw', sampleRate: 8000, channels: 2 } });
    const frame = Buffer.from([1, 2, 3, 4, 5, 6]);
    expect(list(parser.parseBinary(frame))).toEqual([
      { type: 'audio', track: 'inbound', timestampMs: 0, payload: Buffer.from([1, 3, 5]), streamId: undefined },
      { type: 'audio', track: 'outbound', timestampMs: 0, payload: Buffer.from([2, 4, 6]), streamId: undefined },
    ]);
    expect(list(parser.parseBinary(Buffer.alloc(320)))[0]).toMatchObject({ timestampMs: 3 / 8 });
    expect(list(parser.parseBinary(Buffer.alloc(3)))).toEqual([expect.objectContaining({ code: 'CALLTAPE_ERR_BAD_PAYLOAD_LENGTH' })]);
  });

  it('records a mono offer of the agent alone as the outbound track', () => {
    const { client, send } = session();
    const [start] = send(client.open([{ ...EXTERNAL_OFFER, channels: ['internal'] }]));
    expect(start).toMatchObject({ type: 'start', tracks: ['outbound'], format: { channels: 1 } });
  });

  it('turns paused … resumed {start, discarded} into a pause span, and later audio lands after the discarded stretch', () => {
    const { client, parser, send } = session('pause=skip');
    send(client.open([STEREO_OFFER]));
    for (let i = 0; i < 50; i++) parser.parseBinary(Buffer.alloc(320));
    // Paused, every message shows the client is still there (no audio will for a while).
    expect(kinds(send(client.message('paused', 'PT1S', {})))).toEqual(['notice', 'alive']);
    expect(kinds(send(client.message('ping', 'PT2S', {})))).toEqual(['reply', 'alive']);
    const resumed = send(client.message('resumed', 'PT3.5S', { start: 'PT1S', discarded: 'PT2.5S' }));
    expect(resumed.find((r) => !isRejection(r) && r.type === 'pause-span')).toEqual({ type: 'pause-span', fromMs: 1000, toMs: 3500, behavior: 'skip' });
    expect(list(parser.parseBinary(Buffer.alloc(320)))[0]).toMatchObject({ timestampMs: 3500 });
    // The position now agrees with what was counted (discarded audio included): no drift notice.
    expect(kinds(send(client.message('ping', 'PT3.52S', {})))).toEqual(['reply']);
  });

  it('reports once when a control message puts the stream somewhere else than the samples counted', () => {
    const { client, parser, send } = session();
    send(client.open([STEREO_OFFER]));
    parser.parseBinary(Buffer.alloc(320));
    const ping = send(client.message('ping', 'PT5S', {}));
    expect(ping[0]).toMatchObject({ type: 'notice', level: 'warn', message: expect.stringContaining('position 5 s; calltape counted 0.02 s') });
    expect(kinds(send(client.message('ping', 'PT9S', {})))).toEqual(['reply']);
  });

  it('answers a connection probe (null conversation id) and starts nothing', () => {
    const { ids, send } = session();
    const probe = new AudioHookClient({ ...ids, conversationId: '00000000-0000-0000-0000-000000000000' });
    const opened = send(probe.open([STEREO_OFFER]));
    expect(kinds(opened)).toEqual(['reply', 'notice']);
    expect(replies(opened)[0]).toMatchObject({ type: 'opened', parameters: { media: [STEREO_OFFER] } });
    const closed = send(probe.message('close', 'PT0S', { reason: 'end' }));
    expect(kinds(closed)).toEqual(['reply']);
    expect(replies(closed)[0]).toMatchObject({ type: 'closed', seq: 2, clientseq: 2 });
  });

  it('refuses with disconnect and a reason: out of sequence, no usable offer, another organization', () => {
    {
      const { client, send } = session();
      send(client.open([STEREO_OFFER]));
      client.message('ping', 'PT0S', {}); // a message the server never gets: the next seq skips one
      const skipped = send(client.message('ping', 'PT0S', {}));
      expect(kinds(skipped)).toEqual(['reply', 'CALLTAPE_ERR_OUT_OF_SEQUENCE']);
      expect(replies(skipped)[0]).toMatchObject({ type: 'disconnect', parameters: { reason: 'error', info: expect.stringContaining('seq 3 after 1') } });
    }
    {
      const { client, send } = session();
      const refused = send(client.open([{ type: 'audio', format: 'L16', channels: ['external'], rate: 8000 }]));
      expect(kinds(refused)).toEqual(['reply', 'CALLTAPE_ERR_UNSUPPORTED_FORMAT']);
      expect(replies(refused)[0]).toMatchObject({ type: 'disconnect', parameters: { reason: 'error' } });
    }
    {
      const { ids, parser } = session();
      const other = new AudioHookClient({ ...ids, organizationId: '5bfa0a5e-7c11-4a4e-9d2e-1d4ff3f0c0aa' });
      const refused = list(parser.parseText(other.open([STEREO_OFFER])));
      expect(kinds(refused)).toEqual(['reply', 'CALLTAPE_ERR_ORGANIZATION_MISMATCH']);
      expect(replies(refused)[0]).toMatchObject({ type: 'disconnect', parameters: { reason: 'unauthorized' } });
    }
  });

  it("says why calltape closes a session: unauthorized, completed or error, once", () => {
    for (const [why, reason] of [
      ['CALLTAPE_ERR_BAD_STREAM_TOKEN', 'unauthorized'],
      ['CALLTAPE_ERR_MAX_DURATION', 'completed'],
      ['idle', 'completed'],
      ['CALLTAPE_ERR_SHUTTING_DOWN', 'error'],
    ] as const) {
      const { client, parser, send } = session();
      send(client.open([STEREO_OFFER]));
      expect(JSON.parse(parser.closingFrame!(why)!)).toMatchObject({ type: 'disconnect', seq: 2, clientseq: 1, parameters: { reason, info: why } });
      expect(parser.closingFrame!(why)).toBeUndefined();
    }
  });
});

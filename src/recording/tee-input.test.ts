import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { StreamLog } from './stream-log.js';
import { TeeInput } from './tee-input.js';
import { twilioAppFrames } from '../providers/app-frames.js';

function setup(maxQueuedMs = 1000) {
  const played: Array<[number, number]> = [];
  const log = new StreamLog(pino({ level: 'silent' }), () => undefined);
  let clockHead = 0;
  const play = (start: number, _src: Uint8Array, count: number) => void played.push([start, count]);
  const input = new TeeInput({ clockHead: () => clockHead, skipOffset: () => 0 }, log, { wireBytesPerSample: 1, samplesPerMs: 8, maxQueuedMs }, play, twilioAppFrames);
  return { tee: input.tee, log, input, played, at: (sample: number) => (clockHead = sample) };
}

const media = (bytes: number) => JSON.stringify({ event: 'media', streamSid: 'MZ1', media: { payload: Buffer.alloc(bytes, 0x7f).toString('base64') } });

describe('TeeInput', () => {
  it('queues sent media to play as the call reaches it, and keeps marks where they play', () => {
    const { input, tee, log, played, at } = setup();
    at(800);
    input.sent(media(160));
    input.sent(JSON.stringify({ event: 'mark', streamSid: 'MZ1', mark: { name: 'greeting' } }));
    tee.release(1000);
    expect(played).toEqual([[800, 160]]);
    expect(log.marks).toMatchObject([{ name: 'greeting', source: 'app', atMs: 120 }]);
  });

  it('rejects what it cannot use, with the code, and counts a full queue', () => {
    const { input, log } = setup(25); // 200 samples
    input.sent('not json');
    input.sent(JSON.stringify({ event: 'media', media: { payload: '' } }));
    input.sent(media(160));
    input.sent(media(160)); // 320 queued ahead of the call: over 200
    expect(log.rejections).toMatchObject({ CALLTAPE_ERR_INVALID_JSON: 1, CALLTAPE_ERR_BAD_PAYLOAD_LENGTH: 1, CALLTAPE_ERR_TEE_QUEUE_FULL: 1 });
  });

  it('clear drops what the caller has not heard', () => {
    const { input, tee, played, at } = setup();
    input.sent(media(1600));
    at(400);
    input.sent(JSON.stringify({ event: 'clear', streamSid: 'MZ1' }));
    tee.release(2000);
    expect(played).toEqual([[0, 400]]);
    expect(tee.clearedSamples).toBe(1200);
  });
});

// Plays a live call in the browser: the listen socket sends each placed frame as 16-bit PCM
// with its track and its position on the call's clock (see the README). Frames are scheduled
// on an AudioContext at their position plus a small lead, so both tracks stay aligned as
// stereo (left caller, right callee) and jitter in arrival is absorbed; a frame that would
// play late moves the schedule instead of piling up delay.
import { listenUrl } from './api.js';

/** How far behind the call the browser plays: enough to absorb arrival jitter. */
const LEAD_S = 0.3;
/** A schedule further ahead than this (after a skip-pause, say) is started again. */
const MAX_AHEAD_S = 2;
const HEADER_BYTES = 5;

export class LiveListener {
  private readonly context: AudioContext;
  private readonly analyser: AnalyserNode;
  private readonly socket: WebSocket;
  private readonly samples = new Float32Array(2048);
  /** context time of call-clock sample 0, once the first frame has arrived. */
  private base: number | undefined;

  constructor(
    streamSid: string,
    private readonly sampleRate: number,
    onClose: (reason: string) => void,
  ) {
    this.context = new AudioContext({ sampleRate });
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 2048;
    this.analyser.connect(this.context.destination);
    this.socket = new WebSocket(listenUrl(streamSid));
    this.socket.binaryType = 'arraybuffer';
    this.socket.onmessage = (message) => this.play(message.data as ArrayBuffer);
    this.socket.onclose = (event) => {
      void this.context.close();
      onClose(event.code === 1000 ? 'The call ended.' : event.code === 1008 ? 'This browser fell behind and was disconnected.' : event.reason || 'The connection closed.');
    };
  }

  /** Resumes audio output: call from the click that started listening. */
  async start(): Promise<void> {
    await this.context.resume();
  }

  stop(): void {
    this.socket.onclose = null;
    this.socket.close(1000);
    void this.context.close();
  }

  /** Loudness of what is playing now, 0..1 (RMS of the analyser's window). */
  level(): number {
    if (this.context.state === 'closed') return 0;
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const sample of this.samples) sum += sample * sample;
    return Math.sqrt(sum / this.samples.length);
  }

  private play(data: ArrayBuffer): void {
    if (data.byteLength <= HEADER_BYTES || this.context.state === 'closed') return;
    const view = new DataView(data);
    const track = view.getUint8(0);
    const start = view.getUint32(1, true);
    const count = (data.byteLength - HEADER_BYTES) >> 1;
    const buffer = this.context.createBuffer(2, count, this.sampleRate);
    const channel = buffer.getChannelData(track === 1 ? 1 : 0);
    for (let i = 0; i < count; i++) channel[i] = view.getInt16(HEADER_BYTES + i * 2, true) / 32768;
    const now = this.context.currentTime;
    let at = this.base === undefined ? -1 : this.base + start / this.sampleRate;
    if (at < now || at > now + MAX_AHEAD_S) {
      this.base = now + LEAD_S - start / this.sampleRate;
      at = now + LEAD_S;
    }
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.analyser);
    source.start(at);
  }
}

/**
 * A stream socket's reads, taken from `ws` after the upgrade: the socket reads into one
 * buffer the whole process shares, ClientFrameReader takes the media frames out of it, and
 * `ws` keeps everything else of the protocol. A socket that has read waits for the next
 * ReadBatch tick before it reads again, so one read brings several frames.
 *
 * Why: a bare `ws` server spends most of its CPU per frame in the read itself. Each 20 ms
 * frame is a read of its own (an epoll wake, a 64 KiB allocation shrunk to the frame, a
 * Readable stream push and a Writable stream write). Measured on the 2-vCPU development VM,
 * 400 two-track calls (bench/README.md): a bare `ws` sink 4.0-4.2 CPU s per call-hour; the
 * same sink reading into a shared buffer 3.0-3.3; and reading every 100 ms 1.15. An earlier
 * attempt at batched reads through Node's own allocation doubled RSS (glibc kept the
 * shrunk read buffers fragmented); a reused buffer allocates nothing per read.
 *
 * Node offers a caller's read buffer (net.Socket's `onread`) only to sockets it connects;
 * an accepted socket gets it through the same internal keys, learnt from a client socket
 * built with that option. Where they cannot be found (another Node), or the socket is not a
 * plain TCP socket, or `ws` is mid-frame, the socket stays `ws`'s: every frame is still read,
 * only at `ws`'s cost.
 */
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { WebSocket } from 'ws';
import { ClientFrameReader } from './client-frames.js';

interface UserBufferKeys {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

/** The parts of a TCP handle this relies on (src/stream_base.cc's StreamBase methods). */
interface ReadHandle {
  reading: boolean;
  readStart(): number;
  useUserBuffer(buffer: Uint8Array): void;
}

/** The parts of `ws`'s WebSocket and Receiver this relies on (ws 8's lib/websocket.js, lib/receiver.js). */
interface WsInternals {
  readonly _socket?: net.Socket;
  readonly _receiver?: { write(chunk: Buffer): boolean; readonly _bufferedBytes?: number; readonly _state?: number; readonly _fragments?: unknown[]; readonly _errored?: boolean };
}

function findUserBufferKeys(): UserBufferKeys | undefined {
  // `onread` is a Socket constructor option in Node (lib/net.js), typed only for connect().
  const probe = new net.Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as net.SocketConstructorOpts);
  const keys = Object.getOwnPropertySymbols(probe);
  const named = (name: string) => keys.find((key) => key.description === name);
  const found = { buffer: named('kBuffer'), callback: named('kBufferCb'), generator: named('kBufferGen') };
  probe.destroy();
  return found.buffer && found.callback && found.generator ? (found as UserBufferKeys) : undefined;
}

const USER_BUFFER_KEYS = findUserBufferKeys();

/** Every socket reads into this one buffer: a read is consumed before the next one starts. */
const SHARED_READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** Whether this Node lets accepted sockets read into a caller's buffer (said at start-up when not). */
export function directReadsAvailable(): boolean {
  return USER_BUFFER_KEYS !== undefined;
}

/**
 * Restarts the reads of sockets that have read, each about `intervalMs` after its read. What
 * waits meanwhile is in the kernel's socket buffer, not in this process: at most
 * `intervalMs` of a call's audio, a few KB.
 *
 * A wheel of `slotCount` slots, one tick per slot: a socket waits in the slot of the tick
 * that let it read, so it comes round one interval later and keeps its phase. Calls start
 * at different moments, so their reads stay spread over the interval as they were when each
 * frame was a read of its own; restarting every socket at one tick instead made each tick a
 * burst of thousands of messages, whose garbage outlived the young generation (measured:
 * steady RSS per call +30-60 KiB over the spread reads).
 */
export class ReadBatch {
  private readonly slots: net.Socket[][];
  private spare: net.Socket[] = [];
  /** The slot the last tick restarted: sockets that read now wait there a whole round. */
  private cursor = 0;
  private waiting = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;
  private holding = true;

  constructor(
    readonly intervalMs: number,
    private readonly slotCount = 10,
  ) {
    this.slots = Array.from({ length: slotCount }, () => []);
    this.tickMs = Math.max(1, Math.round(intervalMs / slotCount));
  }

  /** False once flushed: sockets read as data comes from then on. */
  get holds(): boolean {
    return this.holding;
  }

  /** Sockets waiting for their next read. */
  get waitingSockets(): number {
    return this.waiting;
  }

  /** `socket` stopped reading after a read: it reads again about one interval from now. */
  wait(socket: net.Socket): void {
    this.slots[this.cursor]!.push(socket);
    this.waiting++;
    this.arm();
  }

  /**
   * Restarts every waiting socket now and lets none wait from now on (a shutdown): resolves
   * once the event loop has polled, so what was waiting in the kernel has been read.
   */
  async flush(): Promise<void> {
    this.holding = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const slot of this.slots) {
      for (let i = 0; i < slot.length; i++) restartReading(slot[i]!);
      slot.length = 0;
    }
    this.waiting = 0;
    // The first turn's poll phase may have run before the restarts; the second's runs after.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  }

  private arm(): void {
    if (this.timer || this.waiting === 0) return;
    this.timer = setTimeout(this.tick, this.tickMs);
    // A waiting socket keeps the process alive by itself.
    this.timer.unref();
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.cursor = (this.cursor + 1) % this.slotCount;
    const due = this.slots[this.cursor]!;
    this.slots[this.cursor] = this.spare;
    this.waiting -= due.length;
    for (let i = 0; i < due.length; i++) restartReading(due[i]!);
    due.length = 0;
    this.spare = due;
    this.arm();
  };
}

/** Reads again, unless the socket was destroyed or its owner paused it (backpressure) meanwhile. */
function restartReading(socket: net.Socket): void {
  const handle = (socket as unknown as { _handle?: ReadHandle | null })._handle;
  if (socket.destroyed || socket.readableFlowing === false || !handle || handle.reading) return;
  handle.reading = true;
  const status = handle.readStart();
  if (status !== 0) socket.destroy(new Error(`read failed: ${getSystemErrorName(status)}`));
}

/**
 * Bytes a sender may send in one read interval and still be made to wait between reads. A
 * realtime call sends far less: a two-track Twilio call about 3.5 KB per 100 ms, 16 kHz
 * stereo L16 6.4 KB.
 *
 * Why a bound: while a socket waits, what its sender sends fills the kernel's receive buffer
 * (accounted with each segment's overhead: on loopback, 128 KiB at first held about a
 * hundred small frames). A full buffer advertises a zero window, and the sender's kernel then
 * sends only when its backed-off probes find the window open again. Measured with 1-minute
 * calls replayed as fast as possible (bench/README.md): without the bound, 5 of 20 stops
 * reached calltape 0.3-2.3 s late, with 73 zero-window advertisements and 88 retransmitted
 * segments in 20 calls.
 */
export const FAST_SENDER_BYTES = 16 * 1024;

/**
 * Whether a socket may wait after a read: only while its sender has sent less than
 * FAST_SENDER_BYTES in the current read interval and the one before. A sender replaying
 * faster is read as data comes, for an interval after it slows down, so the `stop` that
 * follows a fast replay is read when it arrives.
 */
export class SenderPace {
  private intervalStart: number;
  private bytesThisInterval = 0;
  /** Until a first interval has shown the sender's pace, it is read as data comes. */
  private bytesLastInterval = FAST_SENDER_BYTES;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.intervalStart = clock();
  }

  /** Counts a read of `bytesRead` bytes; true: the socket may wait before it reads again. */
  mayWait(bytesRead: number): boolean {
    const now = this.clock();
    const elapsed = now - this.intervalStart;
    if (elapsed >= this.intervalMs) {
      // A quiet interval in between means the sender has slowed down.
      this.bytesLastInterval = elapsed < 2 * this.intervalMs ? this.bytesThisInterval : 0;
      this.bytesThisInterval = 0;
      this.intervalStart = now;
    }
    this.bytesThisInterval += bytesRead;
    return this.bytesThisInterval < FAST_SENDER_BYTES && this.bytesLastInterval < FAST_SENDER_BYTES;
  }
}

export interface DirectReadOptions {
  /** ws's maxPayload: a larger message goes to ws, which refuses it. */
  readonly maxPayload: number;
  /** Where a socket waits between reads; none: it reads as data comes. */
  readonly batch?: ReadBatch | undefined;
  /** Asked after each read: whether this socket may wait for the batch (default: yes). */
  readonly mayWait?: () => boolean;
}

/** A socket whose reads were taken over. */
export interface DirectReads {
  /** Reads so far (how many frames a read brings is the point of batching). */
  readonly reads: number;
}

/**
 * Hands every text or binary message of `ws` to `onMessage`, as its 'message' event does:
 * those read here directly, and those `ws` reads (after an unusual frame, see
 * client-frames.ts). Returns the taken-over reads, or undefined where the socket could not
 * be taken over and `ws` reads it all.
 */
export function listenToMessages(ws: WebSocket, onMessage: (data: Buffer, isBinary: boolean) => void, options: DirectReadOptions): DirectReads | undefined {
  ws.on('message', onMessage);
  return takeOverReads(ws, onMessage, options);
}

function takeOverReads(ws: WebSocket, onMessage: (data: Buffer, isBinary: boolean) => void, options: DirectReadOptions): DirectReads | undefined {
  const keys = USER_BUFFER_KEYS;
  const { _socket: socket, _receiver: receiver } = ws as unknown as WsInternals;
  if (!keys || !socket || !receiver || ws.readyState !== ws.OPEN) return undefined;
  const handle = (socket as unknown as { _handle?: ReadHandle | null })._handle;
  // TLS sockets decrypt in their own handle; only a plain TCP socket's bytes are the frames.
  if ((socket as { encrypted?: boolean }).encrypted || !handle || typeof handle.useUserBuffer !== 'function') return undefined;
  // Only at a frame boundary: ws must hold no part of a frame or message.
  if (receiver._bufferedBytes !== 0 || receiver._state !== 0 || (receiver._fragments?.length ?? 0) !== 0 || receiver._errored) return undefined;
  const wsListeners = socket.listeners('data');
  if (wsListeners.length !== 1) return undefined;
  socket.removeListener('data', wsListeners[0] as (chunk: Buffer) => void);

  const frames = new ClientFrameReader(options.maxPayload, {
    message: onMessage,
    protocol: (bytes) => {
      // As ws's own socket 'data' listener does: a receiver that is full pauses the socket.
      if (!receiver.write(bytes)) socket.pause();
    },
    open: () => !socket.destroyed && !receiver._errored,
  });
  const state = { reads: 0 };
  const batch = options.batch;
  const mayWait = options.mayWait ?? (() => true);
  const pace = batch ? new SenderPace(batch.intervalMs) : undefined;
  const onRead = (length: number, buffer: Buffer): boolean => {
    state.reads++;
    frames.read(buffer, length);
    // Returning false stops reading (Node's onStreamRead) until the batch's next tick. Not
    // once ws reads (it pauses and resumes by itself), nor when the owner paused the socket,
    // nor while the sender sends faster than a wait can hold (see SenderPace), nor when the
    // owner says the frames' arrival times matter.
    if (pace && pace.mayWait(length) && batch!.holds && frames.direct && !socket.destroyed && socket.readableFlowing !== false && mayWait()) {
      batch!.wait(socket);
      return false;
    }
    return true;
  };
  const internal = socket as unknown as Record<symbol, unknown>;
  internal[keys.generator] = null;
  internal[keys.buffer] = SHARED_READ_BUFFER;
  internal[keys.callback] = onRead;
  handle.useUserBuffer(SHARED_READ_BUFFER);
  // What came with the upgrade (ws unshifted it) or was read before now is still queued.
  if (socket.readableLength > 0) {
    const queued = socket.read() as Buffer | null;
    if (queued) frames.read(queued, queued.length);
  }
  return state;
}

/**
 * Reads the WebSocket frames a client sends (RFC 6455 §5.2) for the one shape every media
 * frame has: whole (FIN), no extension bits, masked, text or binary, within the payload
 * limit, text valid UTF-8. Each is unmasked into a Buffer of its own and handed over as `ws`
 * would hand it. Everything else goes to `ws`'s own receiver, whole and at a frame boundary,
 * so `ws` keeps the protocol: pings and pongs, the close handshake, every refusal and its
 * close code. From the first frame this reader would not take itself (a fragment, a bad
 * header, an oversize or non-UTF-8 message) every later byte goes to `ws` as well, so a
 * stream that is unusual in any way is read by `ws` alone; after a close frame nothing more
 * is read, as `ws` reads nothing more.
 *
 * Why not `ws` for all of it: `ws` takes each socket read through a Writable stream and its
 * state machine; this loop reads a whole bunch of frames out of one read (see direct-reads.ts),
 * which is most of what made calltape's read path cheaper than a bare `ws` server's.
 */
import { isUtf8 } from 'node:buffer';

export interface ClientFrameSink {
  /** A whole text or binary message read here, in a Buffer the sink may keep (ws's receiver emits those it reads). */
  message(data: Buffer, isBinary: boolean): void;
  /** Bytes for `ws`'s receiver, starting at a frame boundary (a copy the receiver may keep). */
  protocol(bytes: Buffer): void;
  /** Whether the socket is still read: false once `ws` refused a frame or the socket was destroyed. */
  open(): boolean;
}

type Mode = 'direct' | 'to-ws' | 'closed';

const FIN_NO_RSV = 0x80;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;

export class ClientFrameReader {
  private mode: Mode = 'direct';
  /**
   * The start of a frame cut by the end of a read (never more than one frame), copied into a
   * buffer of the bytes it needs next: its header, then, once the header says, all of it.
   * One copy of each byte: joining the reads at every read would copy a frame fed a byte at a
   * time quadratically (measured: 11 s for one 64 KiB frame), and keeping each read apart
   * would hold an object per byte.
   */
  private partial = Buffer.alloc(0);
  private partialBytes = 0;
  /** Bytes from the cut frame's start that it needs before it can be read further. */
  private needed = 0;

  /** `maxPayload`: ws's limit (0: none), so a frame above it goes to ws and is refused there. */
  constructor(
    private readonly maxPayload: number,
    private readonly sink: ClientFrameSink,
  ) {}

  /** Whether frames are still read here (not handed to ws, not ended by a close frame). */
  get direct(): boolean {
    return this.mode === 'direct';
  }

  /** The first `length` bytes of `read` (a buffer reused after this returns) came from the socket. */
  read(read: Buffer, length: number): void {
    if (this.mode === 'closed') return;
    if (this.mode === 'to-ws') {
      this.sink.protocol(Buffer.from(read.subarray(0, length)));
      return;
    }
    let from = 0;
    while (this.partialBytes > 0) {
      const take = Math.min(length - from, this.needed - this.partialBytes);
      read.copy(this.partial, this.partialBytes, from, from + take);
      this.partialBytes += take;
      from += take;
      if (this.partialBytes < this.needed) return;
      const at = this.frames(this.partial, 0, this.partialBytes);
      if (this.mode !== 'direct') {
        // The cut frame went to ws (the rest of this read follows it) or closed the stream.
        this.partialBytes = 0;
        if (this.mode === 'to-ws' && from < length) this.sink.protocol(Buffer.from(read.subarray(from, length)));
        return;
      }
      if (at === this.partialBytes) {
        this.partialBytes = 0;
        break;
      }
      // Its header is complete and says how long the frame is: room for all of it.
      const grown = Buffer.allocUnsafe(this.needed);
      this.partial.copy(grown, 0, 0, this.partialBytes);
      this.partial = grown;
    }
    const at = this.frames(read, from, length);
    // Kept only while frames are read here: a cut frame's bytes until the rest arrives.
    if (at < length && this.mode === 'direct') {
      this.partial = Buffer.allocUnsafe(this.needed);
      this.partialBytes = read.copy(this.partial, 0, at, length);
    }
  }

  /**
   * Reads whole frames from bytes[start, end); returns where the first incomplete one starts,
   * with `needed` set to what it needs from there.
   */
  private frames(bytes: Buffer, start: number, end: number): number {
    let at = start;
    this.needed = 2;
    while (end - at >= 2) {
      // ws refused a frame handed to it (or the socket was destroyed): nothing more is read.
      if (!this.sink.open()) {
        this.mode = 'closed';
        return end;
      }
      const first = bytes[at]!;
      const second = bytes[at + 1]!;
      let length = second & 0x7f;
      let header = 2;
      if (length === 126) {
        this.needed = 4;
        if (end - at < 4) break;
        length = bytes.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        this.needed = 10;
        if (end - at < 10) break;
        // Beyond 2^32 is beyond any limit: ws refuses it from the header alone.
        if (bytes.readUInt32BE(at + 2) !== 0) return this.toWs(bytes, at, end);
        length = bytes.readUInt32BE(at + 6);
        header = 10;
      }
      const masked = (second & 0x80) !== 0;
      const opcode = first & 0x0f;
      const whole = (first & 0xf0) === FIN_NO_RSV;
      const isData = opcode === OPCODE_TEXT || opcode === OPCODE_BINARY;
      // Refused or fragmented: ws reads it and everything after, from this frame on.
      if (!masked || (this.maxPayload > 0 && length > this.maxPayload) || (isData && !whole)) return this.toWs(bytes, at, end);
      const frameEnd = at + header + 4 + length;
      this.needed = frameEnd - at;
      if (frameEnd > end) break;
      if (!isData) {
        // Control frames (and unknown opcodes, which ws refuses) are ws's, one whole frame each.
        this.sink.protocol(Buffer.from(bytes.subarray(at, frameEnd)));
        at = frameEnd;
        this.needed = 2;
        if (opcode === OPCODE_CLOSE) {
          this.mode = 'closed';
          return end;
        }
        continue;
      }
      const data = unmasked(bytes, at + header, length);
      if (opcode === OPCODE_TEXT && !isUtf8(data)) return this.toWs(bytes, at, end);
      this.sink.message(data, opcode === OPCODE_BINARY);
      at = frameEnd;
      this.needed = 2;
    }
    return at;
  }

  private toWs(bytes: Buffer, from: number, end: number): number {
    this.mode = 'to-ws';
    this.sink.protocol(Buffer.from(bytes.subarray(from, end)));
    return end;
  }
}

/** Words of the key are read in this machine's byte order, as an Int32Array reads the payload. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Views kept from one frame to the next, so that unmasking allocates nothing but the
 * payload's Buffer: word views over the buffer the last pooled payload was allocated in
 * (Node's pool hands out slices of one 8 KiB buffer, twenty-odd frames), and a DataView
 * over the buffer the frames are read from (the shared read buffer). A view per frame (and
 * Buffer.copy's own view of its source) had been a third of what the event loop allocated,
 * young garbage that the scavenger and its helper threads paid for at every frame.
 */
let wordsBuffer: ArrayBufferLike | undefined;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);
let sourceBuffer: ArrayBufferLike | undefined;
let source: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
/** Larger buffers get views of their own, not kept (a cut frame's copy may be megabytes). */
const KEPT_VIEW_MAX_BYTES = 1024 * 1024;

function wordsOf(buffer: ArrayBufferLike): Int32Array<ArrayBufferLike> {
  if (buffer === wordsBuffer) return words;
  const view = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  if (buffer.byteLength <= Buffer.poolSize) {
    wordsBuffer = buffer;
    words = view;
  }
  return view;
}

function sourceOf(buffer: ArrayBufferLike): DataView<ArrayBufferLike> {
  if (buffer === sourceBuffer) return source;
  const view = new DataView(buffer);
  if (buffer.byteLength <= KEPT_VIEW_MAX_BYTES) {
    sourceBuffer = buffer;
    source = view;
  }
  return view;
}

/**
 * The payload after the 4-byte key at `keyAt`, unmasked into a Buffer of its own (Node's
 * pool for small ones), read and XORed a 32-bit word at a time where the payload's Buffer
 * is aligned (Node's pool aligns to 8): measured ~1.5-2x faster than a byte loop.
 */
function unmasked(bytes: Buffer, keyAt: number, length: number): Buffer {
  const data = Buffer.allocUnsafe(length);
  const from = keyAt + 4;
  let i = 0;
  if ((data.byteOffset & 3) === 0 && length >= 4) {
    const key = LITTLE_ENDIAN ? bytes.readInt32LE(keyAt) : bytes.readInt32BE(keyAt);
    const view = wordsOf(data.buffer);
    const read = sourceOf(bytes.buffer);
    const first = data.byteOffset >>> 2;
    const count = length >>> 2;
    const at = bytes.byteOffset + from;
    for (let w = 0; w < count; w++) view[first + w] = read.getInt32(at + (w << 2), LITTLE_ENDIAN) ^ key;
    i = count << 2;
  }
  for (; i < length; i++) data[i] = bytes[from + i]! ^ bytes[keyAt + (i & 3)]!;
  return data;
}

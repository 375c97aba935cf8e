/**
 * Whether a stream's socket is read: it stops when this stream's files have more than
 * STREAM_WRITE_BACKLOG_BYTES waiting for the disk, or the recorder's backlog (all streams)
 * is over its limit, and reads again once both are down to half. TCP holds the sender back
 * meanwhile, so a slow disk or a fast sender costs bounded memory.
 */
import { STREAM_WRITE_BACKLOG_BYTES } from '../limits.js';
import type { WriteBacklog } from './write-backlog.js';

export interface ReadControl {
  pause?(): void;
  resume?(): void;
}

export class ReadGate {
  /** Reading is stopped because the files are behind. */
  paused = false;
  /** Audio handed to this stream's files and not yet written (the sum of their queuedBytes). */
  private queuedBytes = 0;

  constructor(
    private readonly backlog: WriteBacklog,
    private readonly control: ReadControl,
    private readonly onPause: (streamBytes: number, recorderBytes: number) => void = () => undefined,
    private readonly limitBytes = STREAM_WRITE_BACKLOG_BYTES,
  ) {}

  /** Handed to the stream's file writers: told of every change of their unwritten audio. */
  readonly fileBacklog = {
    change: (deltaBytes: number): void => {
      this.queuedBytes += deltaBytes;
      this.backlog.change(deltaBytes);
      if (deltaBytes > 0) {
        if (!this.paused && this.queuedBytes > this.limitBytes) this.pause();
      } else if (this.paused) {
        this.resumeIfRoom();
      }
    },
  };

  /**
   * After a frame: the recorder's backlog, which other streams grow, is checked here, so a
   * stream stops before adding a batch to it.
   */
  afterFrame(): void {
    if (!this.paused && this.backlog.isOver) this.pause();
  }

  /** The stream is ending: no room callback may come for it any more. */
  cancel(): void {
    this.backlog.cancel(this.resumeWhenRoom);
  }

  private pause(): void {
    this.paused = true;
    this.onPause(this.queuedBytes, this.backlog.bytes);
    this.control.pause?.();
    if (!this.backlog.hasRoom) this.backlog.whenRoom(this.resumeWhenRoom);
  }

  private readonly resumeWhenRoom = (): void => this.resumeIfRoom();

  /** Whichever of the two backlogs comes down last calls this again (its writes, or the room callback). */
  private resumeIfRoom(): void {
    if (!this.paused || this.queuedBytes > this.limitBytes / 2) return;
    if (!this.backlog.hasRoom) {
      this.backlog.whenRoom(this.resumeWhenRoom);
      return;
    }
    this.paused = false;
    this.control.resume?.();
  }
}

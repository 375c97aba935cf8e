/**
 * Streams that each carry one direction of one call, joined into one two-track recording
 * (Asterisk: a snoop channel per direction, each its own WebSocket, naming the same call in
 * CALLTAPE_CALL_ID). The first of the two records both tracks and waits here for the other
 * direction; the second, arriving on this node, feeds its audio into that recording instead
 * of starting its own. Streams on different nodes (or arriving after the first ended) are
 * recorded apart, as they would be without a join.
 */
import type { TrackName } from '../events.js';

export class StreamJoins<T> {
  private readonly waiting = new Map<string, { readonly owner: T; readonly track: TrackName }>();

  /** The stream waiting for `track` of `key`, no longer waiting (a third stream finds none). */
  claim(key: string, track: TrackName): T | undefined {
    const entry = this.waiting.get(key);
    if (!entry || entry.track !== track) return undefined;
    this.waiting.delete(key);
    return entry.owner;
  }

  /** `owner` records `key` and waits for its `track`; a key already waited on keeps its first owner. */
  offer(key: string, track: TrackName, owner: T): void {
    if (!this.waiting.has(key)) this.waiting.set(key, { owner, track });
  }

  /** `owner` stops waiting (its recording ended, or its partner came). */
  withdraw(key: string, owner: T): void {
    if (this.waiting.get(key)?.owner === owner) this.waiting.delete(key);
  }

  get size(): number {
    return this.waiting.size;
  }
}

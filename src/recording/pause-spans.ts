/**
 * Where recording was paused, on the provider's clock (input samples): a pure record of
 * spans. `silence` keeps the span's length with silence in it; `skip` leaves it out, so
 * audio after a skipped span moves up by its length (skipOffset).
 */
export type PauseBehavior = 'silence' | 'skip';

export interface PauseSpan {
  readonly behavior: PauseBehavior;
  readonly startSample: number;
  readonly endSample: number;
  readonly receivedAt: string;
}

export class PauseSpans {
  private open: { behavior: PauseBehavior; startSample: number; receivedAt: string } | undefined;
  private readonly closed: PauseSpan[] = [];
  /** Samples left out by closed skip spans: audio after them moves up by this much. */
  skipOffset = 0;

  constructor(private readonly maxSpans: number) {}

  /** The behavior of the open pause, if one is open. */
  get current(): PauseBehavior | undefined {
    return this.open?.behavior;
  }

  /** Whether any pause applies anywhere (the media path asks before anything else). */
  get any(): boolean {
    return this.open !== undefined || this.closed.length > 0;
  }

  get spans(): readonly PauseSpan[] {
    return this.closed;
  }

  /** Opens a pause at `atSample`; an open one stays as it is. Returns the open pause's behavior. */
  start(behavior: PauseBehavior, atSample: number, receivedAt: string): PauseBehavior {
    this.open ??= { behavior, startSample: atSample, receivedAt };
    return this.open.behavior;
  }

  /**
   * Closes the open pause at `atSample` (never before it began). Returns the span, or
   * undefined when none was open; `kept` is false when the span list was full (the span
   * still applied while open, and a skip still moves later audio up).
   */
  end(atSample: number): { span: PauseSpan; kept: boolean } | undefined {
    const open = this.open;
    if (!open) return undefined;
    this.open = undefined;
    const span: PauseSpan = { ...open, endSample: Math.max(atSample, open.startSample) };
    if (span.behavior === 'skip') this.skipOffset += span.endSample - span.startSample;
    const kept = this.closed.length < this.maxSpans;
    if (kept) this.closed.push(span);
    return { span, kept };
  }

  /** The pause behavior that applies to audio starting at `sample`, if any. */
  behaviorAt(sample: number): PauseBehavior | undefined {
    if (this.open && sample >= this.open.startSample) return this.open.behavior;
    for (const span of this.closed) if (sample >= span.startSample && sample < span.endSample) return span.behavior;
    return undefined;
  }
}

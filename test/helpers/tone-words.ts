/**
 * Test speech that a test server can "hear" exactly: each word is a tone burst whose pitch
 * names it (TONE_WORDS), so a transcript's words and their times can be checked to the
 * millisecond against where the test put them.
 */

/** Word i is a tone of 400 + 100·i Hz. */
export const TONE_WORDS = ['refund', 'card', 'charge', 'account', 'balance', 'thank', 'you', 'hello', 'please', 'cancel', 'order', 'payment', 'transfer', 'help', 'agent', 'today'] as const;

export function toneOf(word: string): number {
  const index = TONE_WORDS.indexOf(word as (typeof TONE_WORDS)[number]);
  if (index < 0) throw new Error(`${word} is not a tone word`);
  return 400 + 100 * index;
}

export interface PlacedWord {
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
}

export type HeardWord = PlacedWord;

/** Writes `words` as tone bursts into `samples` (16-bit PCM at `sampleRate`). */
export function placeWords(samples: Int16Array, sampleRate: number, words: readonly PlacedWord[], amplitude = 8000): void {
  for (const word of words) {
    const hz = toneOf(word.text);
    const from = Math.round((word.startMs * sampleRate) / 1000);
    const to = Math.min(samples.length, Math.round((word.endMs * sampleRate) / 1000));
    for (let i = from; i < to; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (i - from)) / sampleRate));
  }
}

/** The words in `samples`: bursts of 10 ms frames above a loudness, named by their pitch. */
export function hearWords(samples: Int16Array, sampleRate: number): HeardWord[] {
  const frame = Math.round(sampleRate / 100);
  const loud: boolean[] = [];
  for (let f = 0; f * frame < samples.length; f++) {
    let sum = 0;
    const end = Math.min(samples.length, (f + 1) * frame);
    for (let i = f * frame; i < end; i++) sum += samples[i]! * samples[i]!;
    loud.push(Math.sqrt(sum / (end - f * frame)) > 1000);
  }
  const words: HeardWord[] = [];
  let f = 0;
  while (f < loud.length) {
    if (!loud[f]) {
      f++;
      continue;
    }
    let end = f;
    while (end < loud.length && loud[end]) end++;
    if (end - f >= 5) {
      // Pitch from zero crossings, away from the burst's edges.
      const from = f * frame + frame;
      const to = Math.min(samples.length, end * frame - frame);
      let crossings = 0;
      for (let i = from + 1; i < to; i++) if ((samples[i - 1]! < 0) !== (samples[i]! < 0)) crossings++;
      const hz = (crossings / 2) * (sampleRate / Math.max(1, to - from));
      const index = Math.round((hz - 400) / 100);
      const text = TONE_WORDS[index];
      if (text) words.push({ text, startMs: (f * 1000) / 100, endMs: (end * 1000) / 100 });
    }
    f = end;
  }
  return words;
}

// The recording player: both tracks as labelled lanes drawn from the server's peaks (the
// audio is never downloaded to draw them), playback through the Range-capable audio route
// (so seeking anywhere is immediate), the call's events as markers on the timeline, and a
// per-lane mute/solo through a Web Audio channel split of the stereo file.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import WaveSurfer from 'wavesurfer.js';
import TimelinePlugin from 'wavesurfer.js/dist/plugins/timeline.js';
import type { Peaks, RecordingEvent } from './api.js';
import { duration, position, span } from './format.js';

export type Lane = 'inbound' | 'outbound';

export const LANE_LABEL: Record<Lane, string> = { inbound: 'Caller (inbound)', outbound: 'Callee / agent (outbound)' };
const LANE_COLOR: Record<Lane, { wave: string; progress: string }> = {
  inbound: { wave: '#60a5fa', progress: '#1d4ed8' },
  outbound: { wave: '#f472b6', progress: '#be185d' },
};
const LANE_HEIGHT = 84;
const SPEEDS = [0.75, 1, 1.25, 1.5, 2];
const SEEK_STEP_S = 5;

/** One value per bucket, 0..1: the larger magnitude of its min and max (lanes are drawn mirrored). */
function laneData(minMax: number[]): Float32Array {
  const out = new Float32Array(minMax.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(Math.abs(minMax[2 * i]!), Math.abs(minMax[2 * i + 1]!)) / 127;
  return out;
}

export function describeEvent(event: RecordingEvent): string {
  if (event.kind === 'dtmf') return `DTMF ${event.digit ?? '?'}`;
  if (event.kind === 'mark') return `Mark ${event.name ?? ''}`.trim();
  const length = event.endMs !== undefined ? ` for ${span(event.endMs - event.atMs)}` : '';
  return event.behavior === 'skip' ? `Paused, audio skipped${length}` : `Paused, silenced${length}`;
}

/** What the mixer sends to the speakers for each lane: muted lanes and, with a solo, all but it are silent. */
function laneGains(lanes: Lane[], muted: Set<Lane>, solo: Lane | null): number[] {
  return lanes.map((lane) => (solo ? (solo === lane ? 1 : 0) : muted.has(lane) ? 0 : 1));
}

/** Where a track got no audio and the files hold silence (meta.json's gaps), in ms. */
export interface Gap {
  atMs: number;
  endMs: number;
}

export function describeGap(lane: Lane, gap: Gap): string {
  return `No audio from the ${lane === 'inbound' ? 'caller' : 'callee'} for ${span(gap.endMs - gap.atMs)}: silence filled in`;
}

export interface PlayerProps {
  audioSrc: string;
  /** Whether audioSrc is the stereo file (left inbound, right outbound): mute/solo need it. */
  stereo: boolean;
  peaks: Peaks;
  durationMs: number;
  events: RecordingEvent[];
  gaps: Partial<Record<Lane, Gap[]>>;
  /** The player's seek, for the event list and the transcript beside it. */
  onSeekReady: (seek: (seconds: number) => void) => void;
  /** Told the playing position (seconds) as it moves, for the transcript to follow. */
  onTime?: (seconds: number) => void;
  /** Where playback starts (a search hit), in ms. */
  startAtMs?: number | undefined;
  /** Speech per lane, overlap and interruptions (the recording's analytics), drawn on the lanes. */
  speech?: SpeechOverlay | undefined;
}

export interface SpeechOverlay {
  lanes: Partial<Record<Lane, Gap[]>>;
  overlaps: Gap[];
  interruptions: Array<{ lane: Lane; atMs: number; endMs: number }>;
}

export function Player({ audioSrc, stereo, peaks, durationMs, events, gaps, onSeekReady, onTime: tellTime, startAtMs, speech }: PlayerProps) {
  const lanes = (['inbound', 'outbound'] as const).filter((lane) => peaks.tracks[lane] !== undefined);
  const audioRef = useRef<HTMLAudioElement>(null);
  const waveRef = useRef<HTMLDivElement>(null);
  const timelineRef = useRef<HTMLDivElement>(null);
  const graph = useRef<{ context: AudioContext; gains: GainNode[] } | null>(null);
  const surfer = useRef<WaveSurfer | null>(null);
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState(0);
  const [speed, setSpeed] = useState(1);
  const [muted, setMuted] = useState<Set<Lane>>(new Set());
  const [solo, setSolo] = useState<Lane | null>(null);
  const seconds = durationMs / 1000;

  const seek = (to: number) => {
    const audio = audioRef.current;
    if (!audio) return;
    const at = Math.min(Math.max(0, to), seconds);
    audio.currentTime = at;
    // The waveform's cursor too: before the audio has loaded no media event would move it.
    surfer.current?.setTime(at);
    // Before the audio is loaded no timeupdate follows: the position is told here.
    setTime(audio.currentTime);
    tellTime?.(audio.currentTime);
  };

  useEffect(() => {
    const audio = audioRef.current!;
    const wave = WaveSurfer.create({
      container: waveRef.current!,
      media: audio,
      peaks: lanes.map((lane) => laneData(peaks.tracks[lane]!)),
      duration: seconds,
      height: LANE_HEIGHT,
      splitChannels: lanes.map((lane) => ({ waveColor: LANE_COLOR[lane].wave, progressColor: LANE_COLOR[lane].progress, height: LANE_HEIGHT })),
      normalize: false,
      cursorColor: '#111827',
      cursorWidth: 2,
      dragToSeek: true,
      plugins: [TimelinePlugin.create({ container: timelineRef.current!, height: 20, style: { fontSize: '11px', color: '#4b5563' }, secondaryLabelOpacity: 0.6, formatTimeCallback: (s: number) => duration(s * 1000) })],
    });
    surfer.current = wave;
    const onTime = () => {
      setTime(audio.currentTime);
      tellTime?.(audio.currentTime);
    };
    // timeupdate comes 4 times a second: while playing, the position is read every frame
    // instead, so the transcript's word follows the voice.
    let frame = 0;
    const follow = () => {
      onTime();
      frame = requestAnimationFrame(follow);
    };
    const onPlay = () => {
      setPlaying(true);
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(follow);
    };
    const onPause = () => {
      setPlaying(false);
      cancelAnimationFrame(frame);
      onTime();
    };
    audio.addEventListener('timeupdate', onTime);
    audio.addEventListener('seeked', onTime);
    audio.addEventListener('play', onPlay);
    audio.addEventListener('pause', onPause);
    onSeekReady(seek);
    if (startAtMs !== undefined) seek(startAtMs / 1000);
    return () => {
      cancelAnimationFrame(frame);
      surfer.current = null;
      wave.destroy();
      audio.removeEventListener('timeupdate', onTime);
      audio.removeEventListener('seeked', onTime);
      audio.removeEventListener('play', onPlay);
      audio.removeEventListener('pause', onPause);
      void graph.current?.context.close();
      graph.current = null;
    };
  }, [audioSrc, peaks]);

  // The channel split is built on the first play (browsers start audio only on a gesture).
  const ensureGraph = () => {
    if (graph.current || !stereo) return;
    const context = new AudioContext();
    const source = context.createMediaElementSource(audioRef.current!);
    const splitter = context.createChannelSplitter(2);
    const merger = context.createChannelMerger(2);
    const gains = [context.createGain(), context.createGain()];
    source.connect(splitter);
    gains.forEach((gain, channel) => {
      splitter.connect(gain, channel);
      gain.connect(merger, 0, channel);
    });
    merger.connect(context.destination);
    graph.current = { context, gains };
  };

  useEffect(() => {
    const gains = laneGains(['inbound', 'outbound'], muted, solo);
    graph.current?.gains.forEach((gain, i) => gain.gain.setValueAtTime(gains[i]!, gain.context.currentTime));
  }, [muted, solo, playing]);

  useEffect(() => {
    if (audioRef.current) audioRef.current.playbackRate = speed;
  }, [speed]);

  const toggle = () => {
    const audio = audioRef.current!;
    if (audio.paused) {
      ensureGraph();
      void graph.current?.context.resume();
      void audio.play();
    } else audio.pause();
  };

  // Space plays and pauses, the arrows step 5 s, wherever focus is but in a form field.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (target.closest('input, select, textarea, dialog') || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === ' ' && !target.closest('button, a')) {
        event.preventDefault();
        toggle();
      } else if (event.key === 'ArrowLeft') {
        event.preventDefault();
        seek((audioRef.current?.currentTime ?? 0) - SEEK_STEP_S);
      } else if (event.key === 'ArrowRight') {
        event.preventDefault();
        seek((audioRef.current?.currentTime ?? 0) + SEEK_STEP_S);
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [seconds]);

  const flip = (lane: Lane) => {
    const next = new Set(muted);
    if (next.has(lane)) next.delete(lane);
    else next.add(lane);
    setMuted(next);
  };

  const pct = (ms: number) => `${Math.min(100, Math.max(0, (ms / durationMs) * 100))}%`;

  return html`
    <div class="player card">
      <audio ref=${audioRef} src=${audioSrc} preload="none"></audio>
      <div class="lanes" style=${`--lanes:${lanes.length}`}>
        <div class="lane-labels" aria-hidden="true">
          ${lanes.map((lane) => html`<div class=${`lane-label lane-${lane}`} style=${`height:${LANE_HEIGHT}px`}>${LANE_LABEL[lane]}</div>`)}
        </div>
        <div class="wave-area">
          <div ref=${waveRef} class="wave" role="img" aria-label=${`Waveform: ${lanes.map((l) => LANE_LABEL[l]).join(' and ')}`}></div>
          <div class="markers">
            ${speech &&
            html`${speech.overlaps.map((o) => html`<span class="overlap-span" style=${`left:${pct(o.atMs)};width:${pct(o.endMs - o.atMs)};height:${lanes.length * LANE_HEIGHT}px`} aria-hidden="true"></span>`)}
            ${lanes.flatMap((lane, laneIndex) =>
              (speech.lanes[lane] ?? []).map((s) => html`<span class=${`speech-span speech-${lane}`} style=${`left:${pct(s.atMs)};width:${pct(s.endMs - s.atMs)};top:${(laneIndex + 1) * LANE_HEIGHT - 6}px`} aria-hidden="true"></span>`),
            )}
            ${speech.interruptions.map((cut) => {
              const label = `${cut.lane === 'inbound' ? 'Caller' : 'Agent'} interrupts at ${position(cut.atMs / 1000)} (both talk ${span(cut.endMs - cut.atMs)})`;
              return html`<button class="marker marker-interrupt" style=${`left:${pct(cut.atMs)};top:${lanes.indexOf(cut.lane) * LANE_HEIGHT + LANE_HEIGHT - 18}px`} title=${label} aria-label=${label} onClick=${() => seek(cut.atMs / 1000)}>↯</button>`;
            })}`}
            ${lanes.flatMap((lane, laneIndex) =>
              (gaps[lane] ?? []).map(
                (gap) => html`<button class="gap-span" style=${`left:${pct(gap.atMs)};width:${pct(gap.endMs - gap.atMs)};top:${laneIndex * LANE_HEIGHT}px;height:${LANE_HEIGHT}px`} title=${`${describeGap(lane, gap)} at ${position(gap.atMs / 1000)}`} aria-label=${`${describeGap(lane, gap)} at ${position(gap.atMs / 1000)}`} onClick=${() => seek(gap.atMs / 1000)}></button>`,
              ),
            )}
            ${events.map((event, i) =>
              event.kind === 'pause' && event.endMs !== undefined && event.behavior !== 'skip'
                ? html`<button key=${i} class="span-marker" style=${`left:${pct(event.atMs)};width:calc(${pct(event.endMs - event.atMs)} + 2px)`} title=${`${describeEvent(event)} at ${position(event.atMs / 1000)}`} aria-label=${`${describeEvent(event)} at ${position(event.atMs / 1000)}`} onClick=${() => seek(event.atMs / 1000)}></button>`
                : html`<button key=${i} class=${`marker marker-${event.kind}`} style=${`left:${pct(event.atMs)}`} title=${`${describeEvent(event)} at ${position(event.atMs / 1000)}`} aria-label=${`${describeEvent(event)} at ${position(event.atMs / 1000)}`} onClick=${() => seek(event.atMs / 1000)}>${event.kind === 'dtmf' ? event.digit : event.kind === 'mark' ? 'M' : '‖'}</button>`,
            )}
          </div>
          <div ref=${timelineRef} class="timeline"></div>
        </div>
      </div>
      <div class="controls">
        <button class="icon" onClick=${() => seek(time - SEEK_STEP_S)} aria-label="Back 5 seconds" title="Back 5 s (←)">−5s</button>
        <button class="primary play" onClick=${toggle} aria-label=${playing ? 'Pause' : 'Play'} title="Play / pause (space)">${playing ? '❚❚ Pause' : '▶ Play'}</button>
        <button class="icon" onClick=${() => seek(time + SEEK_STEP_S)} aria-label="Forward 5 seconds" title="Forward 5 s (→)">+5s</button>
        <span class="clock mono" aria-label="Position"><span data-testid="position">${position(time)}</span> / ${duration(durationMs)}</span>
        <label class="speed">Speed
          <select value=${String(speed)} onChange=${(e: Event) => setSpeed(Number((e.target as HTMLSelectElement).value))}>
            ${SPEEDS.map((s) => html`<option value=${String(s)}>${s}×</option>`)}
          </select>
        </label>
        ${stereo &&
        html`<div class="mixer" role="group" aria-label="Lanes">
          ${lanes.map(
            (lane) => html`<span class=${`mix mix-${lane}`}>
              <span class="mix-name">${lane === 'inbound' ? 'Caller' : 'Callee'}</span>
              <button class=${muted.has(lane) ? 'toggle on' : 'toggle'} aria-pressed=${muted.has(lane)} aria-label=${`Mute ${LANE_LABEL[lane]}`} onClick=${() => flip(lane)}>Mute</button>
              <button class=${solo === lane ? 'toggle on' : 'toggle'} aria-pressed=${solo === lane} aria-label=${`Solo ${LANE_LABEL[lane]}`} onClick=${() => setSolo(solo === lane ? null : lane)}>Solo</button>
            </span>`,
          )}
        </div>`}
      </div>
    </div>
  `;
}

/**
 * `calltape analyze <recording id | dir>` and `calltape summarize <recording id | dir>`: the
 * analytics and summary steps by hand, for recordings made before they were enabled (or to
 * make them again).
 *   - an id: the running server queues the step (POST /api/recordings/:id/analytics|summary)
 *     and this follows its job, so the output is catalogued and announced like any other;
 *   - a recording directory: made here, written beside the files (analytics.json,
 *     summary.json). No server is needed; the catalog does not learn of it.
 * Exit 0 when the output is made, 1 when it is not, 2 for a bad setting.
 */
import path from 'node:path';
import { analyzeRecording, ANALYTICS_FILE, transcriptWordCounts, type Analytics } from '../analytics/analyze-recording.js';
import { filesOf } from '../catalog/recordings.js';
import { loadConfig } from '../config.js';
import { readStepOutput } from '../pipeline/steps/step-files.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { readSummaryPrompt } from '../summarize/settings.js';
import { summarizeTranscript, talkContext } from '../summarize/summarize-transcript.js';
import { SUMMARY_FILE } from '../summarize/summary.js';
import { trackSources } from '../transcribe/transcribe-recording.js';
import { TRANSCRIPT_FILE, type Transcript } from '../transcribe/transcript.js';
import { finishedMeta, ProgressLine, runOnIdOrDir, runStepById, seconds, type ServerFlags } from './step-job.js';

export interface SummarizeFlags extends ServerFlags {
  summaryUrl?: string;
  model?: string;
}

/** The figures as a few lines a person reads. */
export function describeAnalytics(a: Analytics): string {
  const ms = seconds;
  const pct = (n: number) => `${n.toFixed(1)}%`;
  const rows = [
    ['', 'caller', 'agent'],
    ['talk', `${ms(a.talkMs.caller)} (${pct(a.talkPercent.caller)})`, `${ms(a.talkMs.agent)} (${pct(a.talkPercent.agent)})`],
    ['interruptions', `${a.interruptions.caller} (${ms(a.interruptionMs.caller)})`, `${a.interruptions.agent} (${ms(a.interruptionMs.agent)})`],
    ['longest monologue', ms(a.longestMonologueMs.caller), ms(a.longestMonologueMs.agent)],
    ['talk to listen', String(a.talkToListen.caller ?? '–'), String(a.talkToListen.agent ?? '–')],
    ...(a.wordsPerMinute ? [['words per minute', String(a.wordsPerMinute.caller ?? '–'), String(a.wordsPerMinute.agent ?? '–')]] : []),
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const table = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
  return [
    ...table,
    `silence ${ms(a.silenceMs)} (${pct(a.silencePercent)}), overlap ${ms(a.overlapMs)}, of ${ms(a.analyzedMs)} analysed${a.paused.count > 0 ? ` (${a.paused.count} paused span${a.paused.count === 1 ? '' : 's'}, ${ms(a.paused.ms)}, left out)` : ''}`,
  ].join('\n');
}

export function runAnalyzeCommand(target: string, flags: ServerFlags): Promise<number> {
  return runOnIdOrDir(
    target,
    flags,
    async (dir) => {
      const config = loadConfig({}, process.env, {});
      const meta = await finishedMeta(dir);
      const started = Date.now();
      const transcript = await readStepOutput<Transcript>(dir, TRANSCRIPT_FILE);
      const analytics = await analyzeRecording({
        streamSid: meta.streamSid,
        sources: trackSources(dir, filesOf(meta)),
        pauses: meta.pauses ?? [],
        words: transcript ? transcriptWordCounts(transcript) : null,
        mode: config.analyticsVadMode,
      });
      await writeFileAtomic(path.join(dir, ANALYTICS_FILE), `${JSON.stringify(analytics)}\n`);
      process.stdout.write(`${describeAnalytics(analytics)}\n${path.join(dir, ANALYTICS_FILE)} in ${seconds(Date.now() - started)}\n`);
      return 0;
    },
    (id) => runStepById({ kind: 'analytics', what: 'analytics', id, flags, done: (url) => `analytics: ${url}/analytics` }),
  );
}

export function runSummarizeCommand(target: string, flags: SummarizeFlags): Promise<number> {
  return runOnIdOrDir(
    target,
    flags,
    async (dir) => {
      const config = loadConfig({ summaryUrl: flags.summaryUrl, summaryModel: flags.model }, process.env, { summaryUrl: '--summary-url', summaryModel: '--model' });
      if (!config.summaryUrl) throw new Error('--summary-url (or CALLTAPE_SUMMARY_URL) is needed to summarise a directory: the base URL of an OpenAI-compatible chat server, ending in /v1');
      const instructions = readSummaryPrompt(config.summaryPromptFile);
      const meta = await finishedMeta(dir);
      const transcript = await readStepOutput<Transcript>(dir, TRANSCRIPT_FILE);
      if (!transcript) throw new Error(`${dir} has no transcript.json: transcribe it first (calltape transcribe ${dir})`);
      const analytics = await readStepOutput<Analytics>(dir, ANALYTICS_FILE);
      const progress = new ProgressLine();
      const started = Date.now();
      const summary = await summarizeTranscript({
        transcript,
        server: { url: config.summaryUrl, model: config.summaryModel, apiKey: config.summaryApiKey, timeoutMs: config.summaryTimeoutMs },
        instructions,
        maxInputTokens: config.summaryMaxInputTokens,
        context: analytics ? talkContext(analytics) : undefined,
        onProgress: (done, total) => progress.show(`summarising ${meta.streamSid}: ${done}/${total} requests · ${seconds(Date.now() - started)}`),
      });
      progress.end();
      await writeFileAtomic(path.join(dir, SUMMARY_FILE), `${JSON.stringify(summary)}\n`);
      const text =
        summary.state === 'ok'
          ? [summary.summary, `reason: ${summary.reason}`, `outcome: ${summary.outcome}`, ...(summary.actionItems ?? []).map((item) => `- ${item}`), `sentiment: caller ${summary.sentiment?.caller}, agent ${summary.sentiment?.agent}`].join('\n')
          : `the model's answer did not follow the schema (${summary.problem}); kept as raw text`;
      process.stdout.write(`${text}\n${path.join(dir, SUMMARY_FILE)} in ${seconds(Date.now() - started)}\n`);
      return summary.state === 'ok' ? 0 : 1;
    },
    (id) => runStepById({ kind: 'summary', what: 'summary', id, flags, done: (url) => `summary: ${url}/summary` }),
  );
}

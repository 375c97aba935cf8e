/**
 * Step `notify`, the last: queues the completion webhook (`recording.complete`, or its
 * status) in the outbox, once every other step of the recording has settled, so its body
 * says where the files are and whether the transcript was made (webhooks/notifier.ts).
 */
import type { Catalog } from '../../catalog/catalog.js';
import type { WebhookNotifier } from '../../webhooks/notifier.js';
import type { JobsRepo } from '../jobs.js';
import type { Step } from '../runner.js';

export function notifyStep(catalog: Catalog, notifier: WebhookNotifier, jobs: JobsRepo): Step {
  return {
    kind: 'notify',
    concurrency: 4,
    drain: true,
    async run() {
      let queued = 0;
      return {
        async inTransaction(trx, recording) {
          // The recording as it is now (uploaded, say), with its settled jobs.
          const latest = await catalog.repo.get(recording.id, trx);
          if (!latest) return;
          const figures = (await catalog.analytics.forRecordings([recording.id], trx)).get(recording.id);
          queued = await notifier.enqueue(trx, latest, await jobs.forRecording(recording.id, trx), figures);
        },
        committed() {
          if (queued > 0) notifier.outbox.nudge();
        },
      };
    },
  };
}

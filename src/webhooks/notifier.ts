/**
 * Decides where a finished recording is announced and stores those deliveries in the
 * outbox: the configured CALLTAPE_WEBHOOK_URL, and a stream's own `statusCallback`
 * <Parameter> when its host is on the allow-list.
 */
import { redactUrl } from '../redact.js';
import { publicBase } from '../http/public-url.js';
import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import { recordingJson } from '../catalog/recording-json.js';
import type { Recording } from '../catalog/recordings.js';
import type { AnalyticsFigures } from '../analytics/analyze-recording.js';
import type { JobView } from '../pipeline/jobs.js';
import type { CatalogDatabase } from '../catalog/schema.js';
import type { Config } from '../config.js';
import { allowedCallbackUrl, parseAllowList } from './allow.js';
import type { WebhookOutbox } from './outbox.js';

export const STATUS_CALLBACK_PARAM = 'statusCallback';

export class WebhookNotifier {
  private readonly allow: string[];
  private readonly publicBase: string;

  constructor(
    private readonly config: Config,
    readonly outbox: WebhookOutbox,
    private readonly logger: Logger,
  ) {
    this.allow = parseAllowList(config.webhookAllow);
    // Links in the body are the API's: http(s) on the public URL's host and path prefix.
    this.publicBase = config.publicUrl ? publicBase(config.publicUrl, {}) : '';
  }

  targets(recording: Recording): string[] {
    const urls = new Set<string>();
    if (this.config.webhookUrl) urls.add(this.config.webhookUrl);
    const requested = recording.customParameters[STATUS_CALLBACK_PARAM];
    if (requested) {
      const allowed = allowedCallbackUrl(requested, this.allow);
      if (allowed) urls.add(allowed);
      else {
        this.logger.warn(
          { code: 'CALLTAPE_ERR_WEBHOOK_NOT_ALLOWED', callSid: recording.callSid, streamSid: recording.streamSid, url: redactUrl(requested.slice(0, 200)) },
          'statusCallback URL is not on CALLTAPE_WEBHOOK_ALLOW; not sent',
        );
      }
    }
    return [...urls];
  }

  /**
   * Queues `recording.<status>` (complete, failed, recovered, lost) in `trx`: the last step of
   * the pipeline, or the transaction that marks a recording lost. `jobs` are its post-call
   * jobs, all settled by then (the body's `jobs` and `transcript`); `figures` its analytics.
   */
  async enqueue(trx: Transaction<CatalogDatabase>, recording: Recording, jobs?: readonly JobView[], figures?: AnalyticsFigures): Promise<number> {
    return this.enqueueEvent(trx, `recording.${recording.status}`, recording, jobs, {}, figures);
  }

  /** Queues any event about a recording (`recording.transcribed`, say) to its targets; `extra` joins the body. */
  async enqueueEvent(trx: Transaction<CatalogDatabase>, event: string, recording: Recording, jobs?: readonly JobView[], extra: Record<string, unknown> = {}, figures?: AnalyticsFigures): Promise<number> {
    const targets = this.targets(recording);
    if (targets.length === 0) return 0;
    const body = JSON.stringify({ event, recording: recordingJson(recording, this.publicBase, jobs, figures), ...extra });
    for (const url of targets) await this.outbox.enqueue(trx, { recordingId: recording.id, event, url, body });
    return targets.length;
  }

  /** The absolute base of links in webhook bodies ('' without CALLTAPE_PUBLIC_URL). */
  get linkBase(): string {
    return this.publicBase;
  }
}

/**
 * What a stream says besides its audio, kept for meta.json: rejections counted per code
 * (logged up to a cap per code, then only counted), and the DTMF, marks and provider notices
 * it carried (up to MAX_EVENTS_KEPT of each, MAX_NOTICES_KEPT notices, whose text is the
 * sender's; more are counted, not stored).
 */
import type { Logger } from 'pino';
import { ERRORS, type ErrorCode, type Rejection } from '../errors.js';
import { LOGGED_REJECTIONS_PER_CODE, MAX_EVENTS_KEPT, MAX_NOTICES_KEPT } from '../limits.js';
import type { DtmfMeta, MarkMeta, NoticeMeta } from './meta.js';

export class StreamLog {
  readonly rejections: Partial<Record<ErrorCode, number>> = {};
  readonly dtmf: DtmfMeta[] = [];
  readonly marks: MarkMeta[] = [];
  readonly notices: NoticeMeta[] = [];

  /** `log` is replaced (a child with the call's ids) once the stream starts. */
  constructor(
    public log: Logger,
    private readonly countRejection: (code: ErrorCode) => void,
  ) {}

  reject(rejection: Rejection, level: 'warn' | 'debug' = 'warn'): void {
    const seen = (this.rejections[rejection.code] ?? 0) + 1;
    this.rejections[rejection.code] = seen;
    this.countRejection(rejection.code);
    if (seen <= LOGGED_REJECTIONS_PER_CODE) {
      this.log[level](
        { code: rejection.code, occurrence: seen },
        `${ERRORS[rejection.code].message}: ${rejection.detail}${seen === LOGGED_REJECTIONS_PER_CODE ? ' (further occurrences are only counted)' : ''}`,
      );
    }
  }

  /** Adds `entry` to one of the kept lists, or counts it when the list is full. Returns whether it was kept. */
  keep<T>(list: T[], entry: T): boolean {
    const cap = list === (this.notices as unknown[]) ? MAX_NOTICES_KEPT : MAX_EVENTS_KEPT;
    if (list.length < cap) {
      list.push(entry);
      return true;
    }
    this.reject({ code: 'CALLTAPE_ERR_TOO_MANY_EVENTS', detail: `more than ${cap} of one kind` }, 'debug');
    return false;
  }
}

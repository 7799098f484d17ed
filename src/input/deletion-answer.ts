// Every deletion request gets exactly one terminal answer: it is carried out (FORGOTTEN, then
// PURGED) or REJECTED with a reason code. One decision for both modes (the single mode's intake and
// the partitioned user task call it). Refusing to forget is the worse error, so a request whose
// userId is well-formed is carried out whatever else is wrong with it, each correction counted
// (amnesia_deletion_requests_corrected_total{field}) and logged without the user id:
//   - `requestedAt` not epoch ms (a string, negative, fractional), before 1990 (seconds read as
//     milliseconds) or more than MAX_FUTURE_SKEW_MS after the record timestamp: the record
//     timestamp instead (1990-01-01 when that is unusable too);
//   - the record key set and not the userId: the value's userId is forgotten (the key only routes);
//   - `requestId` missing or not an id: the request is answered under `@<topic>/<partition>/<offset>`.
// Only a request without a usable userId, or a value that does not decode at all, is REJECTED
// (amnesia_deletion_requests_rejected_total{reason}); it also goes to the DLQ, as before.
import { fail, type DecodeFailure } from '../output/reasons.js';
import type { Receipt } from '../output/outbox.js';
import type { Logger } from '../log.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
import type { Metrics } from '../telemetry/metrics.js';
import { parseInput, type Deletion, type InputRecord } from './codec.js';
import { checkEventTime, isWellFormed, MIN_EVENT_TIME_MS, type InputRules } from './validate.js';

/** Why a deletion request was rejected: the `reason` of its REJECTED receipt. */
export const REJECT_REASONS = ['undecodable', 'missing-user-id', 'invalid-user-id'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** What a carried-out request had corrected: the `field` label of the corrections counter. */
export type Correction = 'requestedAt' | 'key' | 'requestId';

/** Where the request was read: names a request without a requestId, and the log lines. */
export interface RequestOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export type DeletionAnswer =
  | { readonly ok: true; readonly deletion: Deletion; readonly corrections: readonly Correction[] }
  | { readonly ok: false; readonly receipt: Receipt; readonly failure: DecodeFailure };

/** Counts and logs what an answer corrected or rejected (never the user id). */
export interface AnswerReport {
  readonly metrics: Metrics;
  readonly log?: Logger | undefined;
}

const isId = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= 256 && isWellFormed(v);

/** The receipt key of a request without a usable requestId: its position, stable across replays. */
export function originRequestId(at: RequestOrigin): string {
  return `@${at.topic}/${at.partition}/${at.offset}`;
}

function userIdFailure(v: unknown): { reason: RejectReason; failure: DecodeFailure } {
  if (v === undefined || v === null)
    return { reason: 'missing-user-id', failure: fail('missing-field', 'userId is required') };
  if (typeof v !== 'string')
    return {
      reason: 'invalid-user-id',
      failure: fail('invalid-field', `userId must be a string, got ${typeof v}`),
    };
  if (!isWellFormed(v))
    return {
      reason: 'invalid-user-id',
      failure: fail('invalid-unicode', 'userId must be well-formed Unicode'),
    };
  return {
    reason: 'invalid-user-id',
    failure: fail('invalid-field', `userId must be 1-256 characters, got ${v.length}`),
  };
}

function keyDiffers(key: Buffer | null, userId: string): boolean {
  if (key === null || key.length === 0) return false;
  return key.length !== Buffer.byteLength(userId) || key.toString('utf8') !== userId;
}

/** The request's time: `requestedAt` when it is usable, else the record timestamp (a correction). */
function requestTime(
  given: unknown,
  recordTimestamp: string,
  rules: InputRules,
): { time: number; corrected: boolean } {
  const t = Number(recordTimestamp);
  const recTime = Number.isSafeInteger(t) && t >= 0 ? t : undefined;
  const fallback = recTime ?? MIN_EVENT_TIME_MS;
  if (given === undefined || given === null) return { time: fallback, corrected: recTime === undefined };
  const usable =
    typeof given === 'number' &&
    Number.isSafeInteger(given) &&
    given >= 0 &&
    checkEventTime('requestedAt', given, recTime, rules) === undefined;
  return usable ? { time: given, corrected: false } : { time: fallback, corrected: true };
}

/** Decides how a deletion request is answered (registry schemas must have been prefetched). */
export function answerDeletion(
  rec: InputRecord,
  at: RequestOrigin,
  registry: SchemaRegistryClient | undefined,
  rules: InputRules,
  report: AnswerReport | undefined,
): DeletionAnswer {
  const p = parseInput(rec.value, 'deletion', registry);
  const answer = p.ok ? answerParsed(rec, at, p.obj, rules) : rejected(at, undefined, 'undecodable', p);
  if (report) reportAnswer(answer, at, report);
  return answer;
}

function answerParsed(
  rec: InputRecord,
  at: RequestOrigin,
  obj: Record<string, unknown>,
  rules: InputRules,
): DeletionAnswer {
  const { userId, requestId } = obj;
  if (!isId(userId)) {
    const { reason, failure } = userIdFailure(userId);
    return rejected(at, requestId, reason, failure);
  }
  const corrections: Correction[] = [];
  const { time, corrected } = requestTime(obj.requestedAt, rec.timestamp, rules);
  if (corrected) corrections.push('requestedAt');
  if (keyDiffers(rec.key, userId)) corrections.push('key');
  let id: string;
  if (isId(requestId)) id = requestId;
  else {
    id = originRequestId(at);
    corrections.push('requestId');
  }
  return { ok: true, deletion: { requestId: id, userId, requestedAt: time }, corrections };
}

function rejected(
  at: RequestOrigin,
  requestId: unknown,
  reason: RejectReason,
  failure: DecodeFailure,
): DeletionAnswer {
  const receipt: Receipt = {
    requestId: isId(requestId) ? requestId : originRequestId(at),
    status: 'REJECTED',
    reason,
    interactionsRemoved: 0,
    itemsAffected: 0,
    completedAt: 0,
  };
  return { ok: false, receipt, failure };
}

function reportAnswer(a: DeletionAnswer, at: RequestOrigin, report: AnswerReport): void {
  const where = { topic: at.topic, partition: at.partition, offset: at.offset };
  if (!a.ok) {
    report.metrics.deletionsRejected.inc({ reason: a.receipt.reason ?? 'undecodable' });
    report.log?.warn(
      { ...where, reason: a.receipt.reason, dlqReason: a.failure.reason },
      'deletion request rejected: answered REJECTED and dead-lettered',
    );
    return;
  }
  if (a.corrections.length === 0) return;
  for (const field of a.corrections) report.metrics.deletionsCorrected.inc({ field });
  report.log?.warn(
    { ...where, corrected: a.corrections },
    'deletion request carried out with corrections (requestedAt: the record timestamp; key: the value userId; requestId: its position)',
  );
}

// Field validation of decoded input values (JSON or Avro alike), per the contract, and the rules on
// event times. A failure is a value with a reason from the fixed list, never an exception.
import { z } from 'zod';
import { DEFAULT_MAX_FUTURE_SKEW_MS } from '../config.js';
import type { Action } from '../model/index.js';
import { fail, type DecodeFailure } from '../output/reasons.js';

/**
 * No lone surrogates (ES2024 String.prototype.isWellFormed; Node 20 has it, the TS lib here is
 * ES2023). A lone surrogate becomes U+FFFD in UTF-8, so two different ids would collide as keys.
 */
export const isWellFormed = (s: string): boolean =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();

const WELL_FORMED = 'must be well-formed Unicode (no lone surrogate)';
const id = z.string().min(1).max(256).refine(isWellFormed, WELL_FORMED);
const epochMs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const interactionSchema = z.object({
  userId: id,
  itemId: id,
  action: z.enum(['ADD', 'REMOVE']),
  occurredAt: epochMs.nullish(),
  eventId: z.string().max(1024).refine(isWellFormed, WELL_FORMED).nullish(),
});

const deletionSchema = z.object({
  requestId: id,
  userId: id,
  requestedAt: epochMs.nullish(),
});

export interface ValidInteraction {
  readonly userId: string;
  readonly itemId: string;
  readonly action: Action;
  readonly occurredAt?: number;
  readonly eventId?: string;
}

export interface ValidDeletion {
  readonly requestId: string;
  readonly userId: string;
  readonly requestedAt?: number;
}

export type Validated<T> = { readonly ok: true; readonly value: T } | DecodeFailure;

const TIMESTAMP_FIELDS = new Set(['occurredAt', 'requestedAt']);

function failure(obj: Record<string, unknown>, error: z.ZodError): DecodeFailure {
  const issue = error.issues[0];
  const field = String(issue?.path[0] ?? '');
  const value = obj[field];
  if (value === undefined) return { ok: false, reason: 'missing-field', message: `${field} is required` };
  if (field === 'action')
    return { ok: false, reason: 'invalid-action', message: 'action must be "ADD" or "REMOVE"' };
  if (TIMESTAMP_FIELDS.has(field)) {
    return {
      ok: false,
      reason: 'invalid-timestamp',
      message: `${field} must be a non-negative integer of epoch milliseconds`,
    };
  }
  if (typeof value === 'string' && !isWellFormed(value))
    return { ok: false, reason: 'invalid-unicode', message: `${field} ${WELL_FORMED}` };
  let detail = issue?.message ?? 'invalid';
  if (typeof value !== 'string') detail = `must be a string, got ${value === null ? 'null' : typeof value}`;
  else if (value.length === 0) detail = 'must not be empty';
  else if (value.length > 256) detail = `must be at most 256 characters, got ${value.length}`;
  return { ok: false, reason: 'invalid-field', message: `${field} ${detail}` };
}

const isId = (v: unknown): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= 256 && isWellFormed(v);
const isOptTime = (v: unknown): v is number | null | undefined =>
  v === undefined || v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);

/**
 * The hot path: a hand-written check that accepts exactly what the zod schema accepts (a test
 * holds them to it). zod runs only for records that fail it, to name the reason.
 */
function fastInteraction(o: Record<string, unknown>): ValidInteraction | undefined {
  const { userId, itemId, action, occurredAt, eventId } = o;
  if (!isId(userId) || !isId(itemId) || (action !== 'ADD' && action !== 'REMOVE') || !isOptTime(occurredAt))
    return undefined;
  if (
    eventId !== undefined &&
    eventId !== null &&
    (typeof eventId !== 'string' || eventId.length > 1024 || !isWellFormed(eventId))
  )
    return undefined;
  if (occurredAt == null)
    return eventId == null ? { userId, itemId, action } : { userId, itemId, action, eventId };
  return eventId == null
    ? { userId, itemId, action, occurredAt }
    : { userId, itemId, action, occurredAt, eventId };
}

function fastDeletion(o: Record<string, unknown>): ValidDeletion | undefined {
  const { requestId, userId, requestedAt } = o;
  if (!isId(requestId) || !isId(userId) || !isOptTime(requestedAt)) return undefined;
  return requestedAt == null ? { requestId, userId } : { requestId, userId, requestedAt };
}

export function validateInteraction(obj: Record<string, unknown>): Validated<ValidInteraction> {
  const fast = fastInteraction(obj);
  if (fast) return { ok: true, value: fast };
  const r = interactionSchema.safeParse(obj);
  if (!r.success) return failure(obj, r.error);
  const { userId, itemId, action, occurredAt, eventId } = r.data;
  return {
    ok: true,
    value: {
      userId,
      itemId,
      action,
      ...(occurredAt != null ? { occurredAt } : {}),
      ...(eventId != null ? { eventId } : {}),
    },
  };
}

export function validateDeletion(obj: Record<string, unknown>): Validated<ValidDeletion> {
  const fast = fastDeletion(obj);
  if (fast) return { ok: true, value: fast };
  const r = deletionSchema.safeParse(obj);
  if (!r.success) return failure(obj, r.error);
  const { requestId, userId, requestedAt } = r.data;
  return { ok: true, value: { requestId, userId, ...(requestedAt != null ? { requestedAt } : {}) } };
}

/** Rules on event times beyond their format (config.input). */
export interface InputRules {
  /** How far occurredAt/requestedAt may lie ahead of the Kafka record timestamp (MAX_FUTURE_SKEW_MS). */
  readonly maxFutureSkewMs: number;
}

export const DEFAULT_INPUT_RULES: InputRules = Object.freeze({ maxFutureSkewMs: DEFAULT_MAX_FUTURE_SKEW_MS });

/**
 * The earliest event time accepted: 1990-01-01T00:00:00Z. Later than what broken clocks and unit
 * mistakes produce (epoch 0, seconds read as milliseconds ≈ January 1970, the GPS epoch 1980),
 * earlier than any real interaction log (MovieLens starts in 1995).
 */
export const MIN_EVENT_TIME_MS = Date.UTC(1990, 0, 1);

/**
 * Checks an event's time (`occurredAt`/`requestedAt`, given or defaulted) against the bounds. The
 * future is judged against the record timestamp, not the wall clock, so that a replay decides the
 * same way; without a usable record timestamp there is nothing to judge it by. A time too far ahead
 * would let a late event of a forgotten user escape the late-event rule (occurredAt > requestedAt),
 * or keep a user's tombstone suppressing events until then; one from before 1990 is a broken clock.
 */
export function checkEventTime(
  field: 'occurredAt' | 'requestedAt',
  time: number,
  recordTime: number | undefined,
  rules: InputRules,
): DecodeFailure | undefined {
  if (time < MIN_EVENT_TIME_MS) return fail('timestamp-too-old', `${field} is before 1990-01-01`);
  if (recordTime !== undefined && time - recordTime > rules.maxFutureSkewMs) {
    return fail(
      'timestamp-in-future',
      `${field} is ${time - recordTime} ms after the record timestamp (at most ${rules.maxFutureSkewMs} allowed)`,
    );
  }
  return undefined;
}

/** For tests: the zod verdict alone, to hold the fast path to it. */
export function zodAccepts(kind: 'interaction' | 'deletion', obj: unknown): boolean {
  return (kind === 'interaction' ? interactionSchema : deletionSchema).safeParse(obj).success;
}

/** For tests: the fast path's verdict alone. */
export function fastAccepts(kind: 'interaction' | 'deletion', obj: Record<string, unknown>): boolean {
  return (kind === 'interaction' ? fastInteraction(obj) : fastDeletion(obj)) !== undefined;
}

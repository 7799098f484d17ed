// Field validation of decoded input values (JSON or Avro alike), per the contract. A failure is a
// value with a reason from the fixed list, never an exception.
import { z } from 'zod';
import type { Action } from '../model/types.js';
import type { DecodeFailure } from './reasons.js';

const id = z.string().min(1).max(256);
const epochMs = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const interactionSchema = z.object({
  userId: id,
  itemId: id,
  action: z.enum(['ADD', 'REMOVE']),
  occurredAt: epochMs.nullish(),
  eventId: z.string().max(1024).nullish(),
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
  let detail = issue?.message ?? 'invalid';
  if (typeof value !== 'string') detail = `must be a string, got ${value === null ? 'null' : typeof value}`;
  else if (value.length === 0) detail = 'must not be empty';
  else if (value.length > 256) detail = `must be at most 256 characters, got ${value.length}`;
  return { ok: false, reason: 'invalid-field', message: `${field} ${detail}` };
}

export function validateInteraction(obj: Record<string, unknown>): Validated<ValidInteraction> {
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
  const r = deletionSchema.safeParse(obj);
  if (!r.success) return failure(obj, r.error);
  const { requestId, userId, requestedAt } = r.data;
  return { ok: true, value: { requestId, userId, ...(requestedAt != null ? { requestedAt } : {}) } };
}

// Why an input record was sent to the DLQ: a fixed list, carried in the `amnesia.error.reason`
// header and the `reason` label of amnesia_dlq_records_total.

export const DECODE_REASONS = [
  /** The record value is null (a tombstone on an input topic). */
  'null-value',
  /** The record value has zero bytes. */
  'empty-value',
  /** Starts with a byte that is neither the Confluent magic byte 0x00 nor plausible JSON text. */
  'bad-magic-byte',
  /** Starts with 0x00 but is shorter than the 5-byte Confluent header plus a body. */
  'truncated-frame',
  /** The schema id of the frame is unknown to the registry (or no registry is configured). */
  'unknown-schema-id',
  /** The Avro body does not decode with its writer schema (short, trailing or corrupt bytes). */
  'avro-decode-failed',
  /** The writer schema is a record of another type, e.g. a DeletionRequest on the interactions topic. */
  'wrong-schema',
  /** Not valid UTF-8. */
  'invalid-utf8',
  /** UTF-8 text that does not parse as JSON. */
  'invalid-json',
  /** JSON that is not an object (array, string, number, null...). */
  'not-an-object',
  /** A required field is absent. */
  'missing-field',
  /** A field has the wrong type, or an id is empty or longer than 256 characters. */
  'invalid-field',
  /**
   * An id (userId, itemId, requestId, eventId) is not well-formed Unicode: a lone surrogate in JSON,
   * invalid UTF-8 in an Avro string. Either would turn into U+FFFD and collide with another id.
   */
  'invalid-unicode',
  /** `action` is not exactly "ADD" or "REMOVE". */
  'invalid-action',
  /** `occurredAt`/`requestedAt` is not a non-negative integer (epoch ms), or the record timestamp is unusable. */
  'invalid-timestamp',
  /** `occurredAt`/`requestedAt` more than MAX_FUTURE_SKEW_MS after the record timestamp. */
  'timestamp-in-future',
  /** `occurredAt`/`requestedAt` (given, or the record timestamp it defaults to) before 1990-01-01. */
  'timestamp-too-old',
  /** The record key is set and differs from the value's userId (records must be keyed by user). */
  'key-mismatch',
] as const;

export type DecodeReason = (typeof DECODE_REASONS)[number];

export interface DecodeFailure {
  readonly ok: false;
  readonly reason: DecodeReason;
  /** Human-readable detail; never contains a user id. */
  readonly message: string;
}

export function fail(reason: DecodeReason, message: string): DecodeFailure {
  return { ok: false, reason, message };
}

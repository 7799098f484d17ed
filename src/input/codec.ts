// Input codecs (output encoding: output/encode.ts). Every input value is classified per record: Confluent wire format
// (0x00, 4-byte schema id, Avro body) or UTF-8 JSON text; then its fields, key and event time are
// validated. Decoding never throws for bad data: it returns a DecodeFailure that the caller routes
// to the DLQ. Only prefetchSchemas throws (REGISTRY_UNAVAILABLE), which must be retried, never
// dead-lettered.
import { isUtf8 } from 'node:buffer';
import { HEADER_BYTES, MAGIC_BYTE } from '../output/encode.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
import { fail, type DecodeFailure } from '../output/reasons.js';
import { localSchema, type SchemaName } from '../kafka/schemas.js';
import {
  checkEventTime,
  DEFAULT_INPUT_RULES,
  validateDeletion,
  validateInteraction,
  type InputRules,
  type ValidDeletion,
  type ValidInteraction,
  type Validated,
} from './validate.js';

/** What the codecs need of a Kafka record. */
export interface InputRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Kafka record timestamp, epoch ms as a decimal string (kafkajs's representation). */
  readonly timestamp: string;
}

export type InputKind = 'interaction' | 'deletion';

export interface Interaction extends ValidInteraction {
  readonly occurredAt: number;
}
export interface Deletion extends ValidDeletion {
  readonly requestedAt: number;
}

export type Decoded<T> =
  { readonly ok: true; readonly value: T; readonly format: 'json' | 'avro' } | DecodeFailure;

type Framed =
  | { readonly ok: true; readonly kind: 'avro'; readonly schemaId: number; readonly body: Buffer }
  | { readonly ok: true; readonly kind: 'json'; readonly buf: Buffer }
  | DecodeFailure;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** Splits a value into its encoding; no registry needed. */
export function frame(value: Buffer | null): Framed {
  if (value === null) return fail('null-value', 'the record value is null');
  if (value.length === 0) return fail('empty-value', 'the record value is empty');
  const b0 = value[0]!;
  if (b0 === MAGIC_BYTE) {
    if (value.length <= HEADER_BYTES) {
      return fail(
        'truncated-frame',
        `a Confluent frame needs more than ${HEADER_BYTES} bytes, got ${value.length}`,
      );
    }
    return { ok: true, kind: 'avro', schemaId: value.readUInt32BE(1), body: value.subarray(HEADER_BYTES) };
  }
  // Control bytes never start JSON text (whitespace aside): some other binary framing.
  if ((b0 < 0x20 && b0 !== TAB && b0 !== LF && b0 !== CR) || b0 === 0x7f) {
    return fail(
      'bad-magic-byte',
      `first byte 0x${b0.toString(16).padStart(2, '0')} is neither the Confluent magic byte 0x00 nor JSON text`,
    );
  }
  return { ok: true, kind: 'json', buf: value };
}

/** Schema ids referenced by these values that the registry client has never resolved. */
export function uncachedSchemaIds(
  values: Iterable<Buffer | null>,
  registry: SchemaRegistryClient | undefined,
): number[] {
  if (!registry) return [];
  const ids = new Set<number>();
  for (const v of values) {
    if (v !== null && v.length > HEADER_BYTES && v[0] === MAGIC_BYTE) {
      const id = v.readUInt32BE(1);
      if (registry.cached(id) === undefined) ids.add(id);
    }
  }
  return [...ids];
}

/**
 * Resolves schema ids so that decoding can stay synchronous: resolves once every id is known or
 * definitively unknown (per id: one unknown id fails no other). Rejects with AmnesiaError
 * REGISTRY_UNAVAILABLE (retriable) when the registry cannot be reached: pause and retry, never
 * dead-letter. Many new ids take seconds: pass the consumer's heartbeat.
 */
export async function prefetchSchemas(
  ids: readonly number[],
  registry: SchemaRegistryClient | undefined,
  heartbeat?: () => Promise<void>,
): Promise<void> {
  if (registry) await registry.prefetch(ids, heartbeat);
}

// Avro strings are decoded leniently: invalid UTF-8 becomes U+FFFD, so two ids that differ only in
// invalid bytes would become one. A decoded U+FFFD that is not spelled as such in the body (EF BF
// BD) was invalid bytes. Counting runs only when a U+FFFD appears at all.
const REPLACEMENT_UTF8 = Buffer.from('\uFFFD');

function replacements(v: unknown): number {
  if (typeof v === 'string') {
    let n = 0;
    for (let i = v.indexOf('\uFFFD'); i >= 0; i = v.indexOf('\uFFFD', i + 1)) n++;
    return n;
  }
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return 0;
  let n = 0;
  for (const x of Object.values(v)) n += replacements(x);
  return n;
}

function occurrences(buf: Buffer, pattern: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(pattern); i >= 0; i = buf.indexOf(pattern, i + pattern.length)) n++;
  return n;
}

type Parsed =
  | { readonly ok: true; readonly obj: Record<string, unknown>; readonly format: 'json' | 'avro' }
  | DecodeFailure;

/** Frames and parses a value into its object (no field validation); a failure names the reason. */
export function parseInput(
  value: Buffer | null,
  expect: SchemaName,
  registry: SchemaRegistryClient | undefined,
): Parsed {
  const f = frame(value);
  if (!f.ok) return f;
  if (f.kind === 'avro') {
    const ws = registry?.cached(f.schemaId);
    if (ws === undefined || ws === 'unknown') {
      return fail(
        'unknown-schema-id',
        registry
          ? `schema id ${f.schemaId} is not in the registry`
          : 'Avro record but no SCHEMA_REGISTRY_URL configured',
      );
    }
    const expected = localSchema(expect).fullName;
    if (ws.fullName !== expected)
      return fail(
        'wrong-schema',
        `schema id ${f.schemaId} is ${ws.fullName || 'not a record'}, expected ${expected}`,
      );
    let obj: unknown;
    try {
      obj = ws.type.fromBuffer(f.body);
    } catch (e) {
      return fail(
        'avro-decode-failed',
        `Avro body does not decode with schema id ${f.schemaId}: ${(e as Error).message}`,
      );
    }
    const replaced = replacements(obj);
    if (replaced > 0 && replaced > occurrences(f.body, REPLACEMENT_UTF8)) {
      return fail('invalid-unicode', `an Avro string of schema id ${f.schemaId} is not valid UTF-8`);
    }
    return { ok: true, obj: obj as Record<string, unknown>, format: 'avro' };
  }
  if (!isUtf8(f.buf)) return fail('invalid-utf8', 'the value is neither a Confluent frame nor valid UTF-8');
  let obj: unknown;
  try {
    obj = JSON.parse(f.buf.toString('utf8'));
  } catch {
    // V8's parse message quotes the input, which may hold a user id: keep it out.
    return fail('invalid-json', 'the value is UTF-8 text but not valid JSON');
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    return fail(
      'not-an-object',
      `JSON value is ${obj === null ? 'null' : Array.isArray(obj) ? 'an array' : `a ${typeof obj}`}, expected an object`,
    );
  }
  return { ok: true, obj: obj as Record<string, unknown>, format: 'json' };
}

function recordTime(timestamp: string): number | undefined {
  const t = Number(timestamp);
  return Number.isSafeInteger(t) && t >= 0 ? t : undefined;
}

function keyMismatch(key: Buffer | null, userId: string): DecodeFailure | undefined {
  if (key === null || key.length === 0) return undefined;
  // The byte lengths first (no allocation); the key is decoded only when they agree.
  if (key.length === Buffer.byteLength(userId) && key.toString('utf8') === userId) return undefined;
  return fail('key-mismatch', 'the record key is not the userId of the value');
}

/** Parse, validate, check the key, complete and check the event time: both inputs alike. */
function decodeRecord<V extends { readonly userId: string }, T extends V>(
  rec: InputRecord,
  expect: SchemaName,
  validate: (obj: Record<string, unknown>) => Validated<V>,
  field: 'occurredAt' | 'requestedAt',
  registry: SchemaRegistryClient | undefined,
  rules: InputRules,
): Decoded<T> {
  const p = parseInput(rec.value, expect, registry);
  if (!p.ok) return p;
  const v = validate(p.obj);
  if (!v.ok) return v;
  const mismatch = keyMismatch(rec.key, v.value.userId);
  if (mismatch) return mismatch;
  // A fresh object from the validator: completing it in place is safe.
  const value = v.value as Record<string, unknown>;
  const recTime = recordTime(rec.timestamp);
  let time = value[field] as number | undefined;
  if (time === undefined) {
    if (recTime === undefined) return fail('invalid-timestamp', `no ${field} and no usable record timestamp`);
    value[field] = time = recTime;
  }
  const bad = checkEventTime(field, time, recTime, rules);
  if (bad) return bad;
  return { ok: true, value: value as unknown as T, format: p.format };
}

/** Decodes and validates an interaction event; registry schemas must have been prefetched. */
export function decodeInteraction(
  rec: InputRecord,
  registry?: SchemaRegistryClient,
  rules: InputRules = DEFAULT_INPUT_RULES,
): Decoded<Interaction> {
  return decodeRecord(rec, 'interaction', validateInteraction, 'occurredAt', registry, rules);
}

/** Decodes and validates a deletion request; registry schemas must have been prefetched. */
export function decodeDeletion(
  rec: InputRecord,
  registry?: SchemaRegistryClient,
  rules: InputRules = DEFAULT_INPUT_RULES,
): Decoded<Deletion> {
  return decodeRecord(rec, 'deletion', validateDeletion, 'requestedAt', registry, rules);
}

/**
 * Decodes any of our values (outputs included) from JSON or Avro, for readers of the output topics.
 * Returns null for a null value (a tombstone); throws on undecodable data (outputs are ours, so that is a bug).
 */
export async function decodeAny(
  value: Buffer | null,
  registry?: SchemaRegistryClient,
): Promise<Record<string, unknown> | null> {
  if (value === null) return null;
  const f = frame(value);
  if (!f.ok) throw new Error(`undecodable value: ${f.reason}`);
  if (f.kind === 'avro') {
    const ws = registry ? await registry.schemaById(f.schemaId) : undefined;
    if (!ws) throw new Error(`cannot decode Avro value with schema id ${f.schemaId}`);
    return { ...(ws.type.fromBuffer(f.body) as Record<string, unknown>) };
  }
  return JSON.parse(f.buf.toString('utf8')) as Record<string, unknown>;
}

// Dead-letter records: the original key, value and headers, plus why and where the record came
// from. Written to `<topic>.dlq` with the batch's outputs, so a DLQ write failure stops the commit
// and the record is retried, never lost. A copy that would exceed the size a topic accepts is
// replaced by a bounded record that keeps the key, the reason, the original size and a SHA-256 of
// the original value (and the original headers when they fit): nothing disappears silently.
import { createHash } from 'node:crypto';
import type { IHeaders, Message } from 'kafkajs';
import type { Outgoing } from '../kafka/ports.js';
import { dlqTopic } from '../kafka/topics.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { DecodeFailure, DecodeReason } from './reasons.js';

export const DLQ_HEADERS = {
  reason: 'amnesia.error.reason',
  message: 'amnesia.error.message',
  topic: 'amnesia.original.topic',
  partition: 'amnesia.original.partition',
  offset: 'amnesia.original.offset',
  /** Set on a bounded copy: the original value's size in bytes and its SHA-256 (hex). */
  originalBytes: 'amnesia.original.bytes',
  originalSha256: 'amnesia.original.sha256',
  /** Set when the original headers did not fit either: how many were left out. */
  headersDropped: 'amnesia.original.headers.dropped',
} as const;

export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders | undefined;
  readonly timestamp: string;
}

/** The DLQ message for a record that failed to decode or validate. */
export function dlqMessage(rec: SourceRecord, failure: DecodeFailure): Message {
  const headers: IHeaders = {};
  for (const [k, v] of Object.entries(rec.headers ?? {})) {
    if (v !== undefined) headers[k] = v;
  }
  headers[DLQ_HEADERS.reason] = failure.reason;
  headers[DLQ_HEADERS.message] = failure.message;
  headers[DLQ_HEADERS.topic] = rec.topic;
  headers[DLQ_HEADERS.partition] = String(rec.partition);
  headers[DLQ_HEADERS.offset] = rec.offset;
  return { key: rec.key, value: rec.value, headers, timestamp: rec.timestamp };
}

/** What a dead-lettered input record is: where it came from (topic, partition) and the record. */
export interface DeadInput {
  readonly topic: string;
  readonly partition: number;
  readonly m: {
    readonly offset: string;
    readonly key: Buffer | null;
    readonly value: Buffer | null;
    readonly headers?: IHeaders | undefined;
    readonly timestamp: string;
  };
}

/** A dead letter ready to deliver: its DLQ topic, the source topic and reason (metrics), the message. */
export interface DeadLetter {
  readonly topic: string;
  readonly sourceTopic: string;
  readonly reason: DecodeReason;
  readonly message: Message;
}

/** Smallest bound a DLQ copy is tightened to (a bounded copy fits well below it). */
const MIN_DLQ_BYTES = 4096;

/**
 * The dead letters of both modes, waiting to be delivered with the outputs of their flush: an input
 * record that failed to decode or validate goes to `<topic>.dlq` with its key, value and headers,
 * why and where it came from, bounded to DLQ_MAX_RECORD_BYTES (amnesia_dlq_bounded_total counts the
 * copies cut down). A broker that refuses a copy as too large gets tighter copies (`tighten`).
 */
export class DeadLetters {
  private pending: DeadLetter[] = [];

  constructor(
    private readonly metrics: Pick<Metrics, 'dlqBounded' | 'dlqRecords'>,
    /** Largest DLQ copy (DLQ_MAX_RECORD_BYTES); bigger ones are replaced by bounded copies. */
    private maxBytes = 1_000_000,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  /** Queues the dead letter of `from` for its flush. */
  add(from: DeadInput, failure: DecodeFailure): void {
    const { m } = from;
    const full = dlqMessage(
      {
        topic: from.topic,
        partition: from.partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        headers: m.headers,
        timestamp: m.timestamp,
      },
      failure,
    );
    this.push({
      topic: dlqTopic(from.topic),
      sourceTopic: from.topic,
      reason: failure.reason,
      message: full,
    });
  }

  /** Queues an already built dead letter (bounded here). */
  push(d: DeadLetter): void {
    const message = boundDlqMessage(d.message, this.maxBytes);
    if (message !== d.message) this.metrics.dlqBounded.inc({ topic: d.sourceTopic });
    this.pending.push({ ...d, message });
  }

  /**
   * The broker refused a record as too large: its limit is below ours. Halves the bound (down to a
   * few KiB) and bounds the pending copies again; false when there is nothing left to shrink.
   */
  tighten(): boolean {
    if (this.maxBytes <= MIN_DLQ_BYTES || this.pending.length === 0) return false;
    this.maxBytes = Math.max(MIN_DLQ_BYTES, Math.floor(this.maxBytes / 2));
    const pending = this.pending;
    this.pending = [];
    for (const d of pending) this.push(d);
    return true;
  }

  /** The records to deliver, in arrival order. */
  records(): Outgoing[] {
    return this.pending.map((d) => ({ topic: d.topic, message: d.message, bytes: recordBytes(d.message) }));
  }

  /** The pending dead letters are out: counted and dropped. */
  delivered(): void {
    for (const d of this.pending) this.metrics.dlqRecords.inc({ topic: d.sourceTopic, reason: d.reason });
    this.pending = [];
  }

  /** Drops what is pending (the state that produced it is being rebuilt). */
  clear(): void {
    this.pending = [];
  }
}

/** Reads one of our headers back (DLQ consumers, tests). */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[v.length - 1] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/** A longer key is replaced by its SHA-256 (hex) in a bounded copy. */
const MAX_KEY_BYTES = 1024;

const headerBytes = (headers: IHeaders): number => {
  let n = 0;
  for (const [k, v] of Object.entries(headers)) {
    for (const one of Array.isArray(v) ? v : [v])
      n +=
        k.length +
        8 +
        (one === undefined ? 0 : Buffer.isBuffer(one) ? one.length : Buffer.byteLength(String(one)));
  }
  return n;
};

/** Approximate bytes of a record on the wire (key, value, headers, record overhead). */
export function recordBytes(m: Message): number {
  const key = m.key === null || m.key === undefined ? 0 : Buffer.byteLength(m.key);
  const value = m.value === null || m.value === undefined ? 0 : Buffer.byteLength(m.value);
  return 64 + key + value + headerBytes(m.headers ?? {});
}

/**
 * The DLQ message itself when it fits in `maxBytes`, else a bounded copy: no value (an empty one),
 * the original value's size and SHA-256 in headers, the original headers if they still fit, a key
 * over 1 KiB replaced by its SHA-256.
 */
export function boundDlqMessage(m: Message, maxBytes: number): Message {
  if (recordBytes(m) <= maxBytes) return m;
  const original = m.value === null || m.value === undefined ? Buffer.alloc(0) : Buffer.from(m.value);
  const ours: IHeaders = {};
  const theirs: IHeaders = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    if (k.startsWith('amnesia.')) ours[k] = v;
    else theirs[k] = v;
  }
  ours[DLQ_HEADERS.originalBytes] = String(original.length);
  ours[DLQ_HEADERS.originalSha256] = createHash('sha256').update(original).digest('hex');
  const key =
    m.key !== null && m.key !== undefined && Buffer.byteLength(m.key) > MAX_KEY_BYTES
      ? createHash('sha256').update(m.key).digest('hex')
      : (m.key ?? null);
  const bounded: Message = { ...m, key, value: Buffer.alloc(0), headers: { ...theirs, ...ours } };
  if (recordBytes(bounded) <= maxBytes) return bounded;
  ours[DLQ_HEADERS.headersDropped] = String(Object.keys(theirs).length);
  const message = ours[DLQ_HEADERS.message];
  if (message !== undefined && recordBytes({ ...bounded, headers: ours }) > maxBytes)
    ours[DLQ_HEADERS.message] = String(message).slice(0, 256);
  return { ...bounded, headers: ours };
}

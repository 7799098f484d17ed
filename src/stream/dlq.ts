// Dead-letter records: the original key, value and headers, plus why and where the record came
// from. Written to `<topic>.dlq` in the same awaited send as the batch's outputs, so a DLQ write
// failure stops the commit and the record is retried, never lost.
import type { IHeaders, Message } from 'kafkajs';
import type { DecodeFailure } from './reasons.js';

export const DLQ_HEADERS = {
  reason: 'amnesia.error.reason',
  message: 'amnesia.error.message',
  topic: 'amnesia.original.topic',
  partition: 'amnesia.original.partition',
  offset: 'amnesia.original.offset',
} as const;

export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

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

/** Reads one of our headers back (DLQ consumers, tests). */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[v.length - 1] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

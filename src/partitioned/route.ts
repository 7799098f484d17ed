// Routing by user, whatever the producer's partitioner: a user task decodes and validates the input
// records of its partition and forwards each to the user's home partition of the repartition topic
// (`<group>-users-repartition`, partition murmur2(token) mod P), in the transaction that commits the
// input positions, as Kafka Streams re-keys through a repartition topic. The home task applies them:
// every interaction and deletion of a user meets one user table, however the producers keyed or
// partitioned them. A routed record names the user by token and the event by a keyed hash of its
// eventId — the raw ids never leave the partition they arrived on — and keeps the input record's
// timestamp (the per-user order of interactions and deletions is by record time). A REJECTED
// deletion and a dead letter are answered where they arrived: they have no home.
import { createHmac } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { Deletion, Interaction } from '../input/codec.js';
import { fail, type DecodeFailure } from '../output/reasons.js';
import { partitionOf } from './ids.js';

/** A routed record, decoded at home: `userId` is the user's token. */
export type Routed =
  | { readonly ok: true; readonly kind: 'interaction'; readonly event: Interaction }
  | { readonly ok: true; readonly kind: 'deletion'; readonly deletion: Deletion }
  | DecodeFailure;

interface Wire {
  readonly k: 'i' | 'd';
  readonly u: string;
  readonly t: number;
  readonly i?: string;
  readonly a?: 'ADD' | 'REMOVE';
  readonly e?: string;
  readonly r?: string;
}

/** The home partition of a user (by token) among the user partitions. */
export function homeOf(token: string, userPartitions: number): number {
  return partitionOf(token, userPartitions);
}

/** A keyed hash of an eventId: dedup needs equality only, not the producer's id. */
export function eventToken(key: string, eventId: string): string {
  return createHmac('sha256', key).update('amnesia-event\0').update(eventId).digest('base64url').slice(0, 22);
}

export function encodeRoutedInteraction(token: string, e: Interaction, eventKey: string): string {
  const w: Wire = {
    k: 'i',
    u: token,
    i: e.itemId,
    a: e.action,
    t: e.occurredAt,
    ...(e.eventId !== undefined ? { e: eventToken(eventKey, e.eventId) } : {}),
  };
  return JSON.stringify(w);
}

export function encodeRoutedDeletion(token: string, d: Deletion): string {
  const w: Wire = { k: 'd', u: token, r: d.requestId, t: d.requestedAt };
  return JSON.stringify(w);
}

export function decodeRouted(m: Pick<KafkaMessage, 'value'>): Routed {
  let w: Wire;
  try {
    w = JSON.parse(m.value?.toString('utf8') ?? 'null') as Wire;
  } catch {
    return fail('invalid-json', 'a routed record that is not JSON');
  }
  if (w === null || typeof w.u !== 'string' || typeof w.t !== 'number')
    return fail('invalid-field', 'a routed record without a user token or a time');
  if (w.k === 'd' && typeof w.r === 'string')
    return { ok: true, kind: 'deletion', deletion: { requestId: w.r, userId: w.u, requestedAt: w.t } };
  if (w.k === 'i' && typeof w.i === 'string' && (w.a === 'ADD' || w.a === 'REMOVE'))
    return {
      ok: true,
      kind: 'interaction',
      event: {
        userId: w.u,
        itemId: w.i,
        action: w.a,
        occurredAt: w.t,
        ...(w.e !== undefined ? { eventId: w.e } : {}),
      },
    };
  return fail('invalid-field', 'a routed record of no known kind');
}

// Holding decoded interaction records until their chunk is flushed, and applying them in order: the
// one hold-and-apply core of both modes (the single mode's live processing, every partitioned user
// task). A record is held decoded, or with the reason it goes to the DLQ, in arrival order. A
// deletion request applies first the held interactions of its user recorded no later than it (the
// per-user order a replay uses, replay-order.ts); later ones stay held and survive the forget.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { KafkaMessage } from 'kafkajs';
import type { DecodeFailure } from '../output/reasons.js';
import type { Decoded, Interaction } from './codec.js';

/** A held interaction record; `W` says where it came from (a topic-partition, a topic). */
export interface Held<W> {
  readonly where: W;
  readonly offset: number;
  readonly recordMs: number;
  readonly event?: Interaction;
  readonly dead?: { readonly m: KafkaMessage; readonly failure: DecodeFailure };
}

/** Where held records go when applied: the state, or the DLQ. */
export interface HeldSink<W> {
  interaction(event: Interaction, where: W): void;
  deadLetter(where: W, m: KafkaMessage, failure: DecodeFailure): void;
}

/** Longest run of applying held events before the event loop gets a turn. */
const APPLY_SLICE_MS = 20;

export class HeldRecords<W> {
  private held: Held<W>[] = [];
  private since_ = 0;

  get size(): number {
    return this.held.length;
  }

  /** When the oldest record held now was taken (performance.now()): the linger runs from it. */
  get since(): number {
    return this.since_;
  }

  /** The records held, in arrival order (read only: committable positions stop at the first). */
  get records(): readonly Held<W>[] {
    return this.held;
  }

  /** Holds a decoded record (or its decode failure) until the chunk is applied. */
  hold(where: W, m: KafkaMessage, decoded: Decoded<Interaction>): void {
    if (this.held.length === 0) this.since_ = performance.now();
    const base = { where, offset: Number(m.offset), recordMs: Number(m.timestamp) };
    this.held.push(
      decoded.ok ? { ...base, event: decoded.value } : { ...base, dead: { m, failure: decoded } },
    );
  }

  /** The linger restarts now (a timed flush for outputs left behind, with nothing held). */
  restartLinger(): void {
    if (this.held.length === 0) this.since_ = performance.now();
  }

  /**
   * Before a deletion request of `userId` recorded at `recordMs`: applies the held interactions of
   * that user recorded no later than it, in arrival order; the others stay held.
   */
  applyUserBefore(userId: string, recordMs: number, sink: HeldSink<W>): void {
    if (this.held.length === 0) return;
    const keep: Held<W>[] = [];
    for (const h of this.held) {
      if (h.event !== undefined && h.event.userId === userId && h.recordMs <= recordMs) {
        sink.interaction(h.event, h.where);
      } else keep.push(h);
    }
    if (keep.length !== this.held.length) this.held = keep;
  }

  /** Takes the oldest `limit` records (default: the whole chunk); the rest stay held, lingering since they were. */
  take(limit = Infinity): Held<W>[] {
    if (limit >= this.held.length) {
      const held = this.held;
      this.held = [];
      return held;
    }
    return this.held.splice(0, Math.max(1, Math.floor(limit)));
  }

  clear(): void {
    this.held = [];
  }
}

/**
 * Applies a chunk in arrival order. Cheap per event, but a big chunk (or a user at the cap, whose
 * oldest items leave) adds up: with `pause`, the event loop gets a turn every APPLY_SLICE_MS (and
 * the caller heartbeats in it).
 */
export async function applyChunk<W>(
  chunk: readonly Held<W>[],
  sink: HeldSink<W>,
  pause?: () => Promise<void>,
): Promise<void> {
  let sliceStart = performance.now();
  for (let k = 0; k < chunk.length; k++) {
    const h = chunk[k]!;
    if (h.event !== undefined) sink.interaction(h.event, h.where);
    else if (h.dead !== undefined) sink.deadLetter(h.where, h.dead.m, h.dead.failure);
    if (pause && (k & 255) === 255 && performance.now() - sliceStart > APPLY_SLICE_MS) {
      await pause();
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

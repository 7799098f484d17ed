// Input records into the model: decode (Avro or JSON), dead-letter what cannot be decoded or
// validated, apply interactions and deletion requests, and count outcomes for the metrics. Shared by
// live processing and rebuilds; the model is read through a getter because a rebuild replaces it.
import type { KafkaMessage } from 'kafkajs';
import type { InteractionOutcome, Model } from '../model/index.js';
import type { PendingPurge } from '../state/format.js';
import {
  decodeDeletion,
  decodeInteraction,
  type Decoded,
  type Deletion,
  type InputKind,
  type Interaction,
} from './codec.js';
import { DEDUP_SECTION, EventDedup, LEGACY_DEDUP_SECTION, notesEventId } from './dedup.js';
import { resolveSchemas, type SchemaWaitContext } from './schema-wait.js';
import { answerDeletion } from './deletion-answer.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Outbox, Receipt } from '../output/outbox.js';
import type { TopicPartition } from '../kafka/partitions.js';
import type { DecodeFailure } from '../output/reasons.js';
import { DEFAULT_INPUT_RULES, type InputRules } from './validate.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';

const OUTCOME_LABEL: Record<InteractionOutcome, string> = {
  applied: 'applied',
  duplicate: 'duplicate',
  'suppressed-late': 'suppressed_late',
  expired: 'expired',
};

/** Outcome counts of a run of records, added to the metrics in one go. */
export class OutcomeCounts {
  private readonly byOutcome = new Map<string, number>();

  add(outcome: string, n = 1): void {
    this.byOutcome.set(outcome, (this.byOutcome.get(outcome) ?? 0) + n);
  }

  get total(): number {
    let n = 0;
    for (const v of this.byOutcome.values()) n += v;
    return n;
  }

  report(metrics: Metrics, topic: string): void {
    for (const [outcome, n] of this.byOutcome) metrics.eventsConsumed.inc({ topic, outcome }, n);
    const expired = this.byOutcome.get('expired');
    if (expired !== undefined) metrics.interactionsExpiredOnArrival.inc(expired);
    this.byOutcome.clear();
  }
}

/** Outcome counts per topic. */
export class CountsByTopic {
  private readonly byTopic = new Map<string, OutcomeCounts>();

  of(topic: string): OutcomeCounts {
    let c = this.byTopic.get(topic);
    if (!c) this.byTopic.set(topic, (c = new OutcomeCounts()));
    return c;
  }

  report(metrics: Metrics): void {
    for (const [topic, c] of this.byTopic) c.report(metrics, topic);
  }
}

export interface IntakeDeps {
  readonly model: () => Model;
  /** EVENT_DEDUP_WINDOW: eventIds remembered per user (0: no de-duplication). */
  readonly dedupWindow?: number;
  /** EVENT_DEDUP_MAX_USERS: most users whose eventIds are remembered (default: no bound). */
  readonly dedupMaxUsers?: number;
  /** The tombstone key: the eventId window keys users by their token under it. */
  readonly tombstoneKey: string;
  readonly registry: SchemaRegistryClient | undefined;
  readonly inputRules?: InputRules;
  readonly outbox: Outbox;
  readonly metrics: Metrics;
  /** Where corrected and rejected deletion requests are logged (never with the user id). */
  readonly log?: Logger | undefined;
  /** A forgotten user's PURGED receipt is due after the next durable snapshot (SNAPSHOT_DIR set). */
  readonly noteForgotten?: ((p: PendingPurge) => void) | undefined;
}

export class Intake {
  private dedup: EventDedup;

  constructor(private readonly deps: IntakeDeps) {
    this.dedup = this.newDedup();
  }

  private newDedup(): EventDedup {
    const { dedupWindow, dedupMaxUsers, tombstoneKey } = this.deps;
    return new EventDedup({
      window: dedupWindow ?? 0,
      maxUsers: dedupMaxUsers ?? Infinity,
      key: tombstoneKey,
    });
  }

  /**
   * Starts over with the state (a rebuild): the eventIds remembered, from a snapshot's sections or
   * none. An earlier build's section (keyed by user id) is converted, keeping the users `holds`.
   */
  resetDedup(sections?: Readonly<Record<string, Uint8Array>>, holds?: (userId: string) => boolean): void {
    this.dedup = this.newDedup();
    const current = sections?.[DEDUP_SECTION];
    const legacy = sections?.[LEGACY_DEDUP_SECTION];
    if (current) this.dedup.import(current);
    else if (legacy) {
      const { kept, dropped } = this.dedup.importLegacy(legacy, holds ?? (() => false));
      this.deps.log?.info(
        { kept, dropped },
        'eventId window of an earlier build converted to user tokens (users without history dropped)',
      );
    }
    this.deps.metrics.eventDedupUsers.set(this.dedup.users);
  }

  /** The eventIds remembered, as snapshot sections. */
  exportDedup(): Record<string, Uint8Array> {
    return { [DEDUP_SECTION]: this.dedup.export() };
  }

  /** Users whose eventIds are remembered, and how many the bound has dropped (metrics). */
  get dedupFigures(): { users: number; evicted: number } {
    return { users: this.dedup.users, evicted: this.dedup.evicted };
  }

  /** Resolves the schema ids these records use (decoding stays synchronous); waits out an unreachable registry. */
  resolveSchemas(messages: readonly KafkaMessage[], ctx: SchemaWaitContext): Promise<void> {
    return resolveSchemas(messages, this.deps.registry, ctx);
  }

  decode(kind: 'interaction', m: KafkaMessage): Decoded<Interaction>;
  decode(kind: 'deletion', m: KafkaMessage): Decoded<Deletion>;
  decode(kind: InputKind, m: KafkaMessage): Decoded<Interaction> | Decoded<Deletion>;
  decode(kind: InputKind, m: KafkaMessage): Decoded<Interaction> | Decoded<Deletion> {
    return kind === 'interaction'
      ? decodeInteraction(m, this.deps.registry, this.deps.inputRules)
      : decodeDeletion(m, this.deps.registry, this.deps.inputRules);
  }

  /**
   * A deletion request's one answer (deletion-answer.ts): the deletion to carry out, or — dead-lettered
   * when `counts` is given (not a silent replay) — its REJECTED receipt.
   */
  answerDeletion(
    from: TopicPartition,
    m: KafkaMessage,
    counts: OutcomeCounts | undefined,
  ): { readonly deletion: Deletion } | { readonly rejected: Receipt } {
    const at = { ...from, offset: m.offset };
    const { registry, inputRules, metrics, log } = this.deps;
    const a = answerDeletion(m, at, registry, inputRules ?? DEFAULT_INPUT_RULES, counts && { metrics, log });
    if (a.ok) return { deletion: a.deletion };
    if (counts) this.deadLetter(from, m, a.failure, counts);
    return { rejected: a.receipt };
  }

  /** Queues the record for `<topic>.dlq` with the reason (published with the next flush). */
  deadLetter(from: TopicPartition, m: KafkaMessage, failure: DecodeFailure, counts: OutcomeCounts): void {
    this.deps.outbox.deadLetters.add({ ...from, m }, failure);
    counts.add('invalid');
  }

  interaction(e: Interaction, counts: OutcomeCounts | undefined): void {
    const { eventId } = e;
    const token = eventId !== undefined && this.dedup.on ? this.dedup.tokenOf(e.userId) : undefined;
    if (token !== undefined && this.dedup.seen(token, eventId!)) {
      counts?.add('duplicate_event');
      return;
    }
    const outcome = this.deps.model().interaction(e);
    if (token !== undefined && notesEventId(outcome)) {
      const [users, evicted] = [this.dedup.users, this.dedup.evicted];
      this.dedup.note(token, eventId!, e.userId);
      if (this.dedup.users !== users) this.deps.metrics.eventDedupUsers.set(this.dedup.users);
      if (this.dedup.evicted !== evicted)
        this.deps.metrics.eventDedupEvicted.inc(this.dedup.evicted - evicted);
    }
    counts?.add(OUTCOME_LABEL[outcome]);
  }

  /**
   * Forgets the user now; returns the FORGOTTEN receipt (completedAt is set when it is published).
   * `notePurge`: the request's PURGED receipt becomes due after the next durable snapshot (a
   * rebuild decides that later, once it knows which requests already have one).
   */
  forget(d: Deletion, recordMs: number, notePurge = true): Receipt {
    const t0 = performance.now();
    const r = this.deps.model().forget({ userId: d.userId, requestedAt: d.requestedAt });
    if (this.dedup.on) {
      this.dedup.forget(this.dedup.tokenOf(d.userId), d.userId);
      this.deps.metrics.eventDedupUsers.set(this.dedup.users);
    }
    this.deps.metrics.forgetDuration.observe((performance.now() - t0) / 1000);
    const receipt: Receipt = {
      requestId: d.requestId,
      status: 'FORGOTTEN',
      interactionsRemoved: r.interactionsRemoved,
      itemsAffected: r.itemsAffected,
      completedAt: 0,
    };
    if (notePurge) this.notePurge(receipt, recordMs);
    return receipt;
  }

  /** The request's PURGED receipt is due after the next durable snapshot (when snapshots are on). */
  notePurge(r: Receipt, recordMs: number): void {
    this.deps.noteForgotten?.({
      requestId: r.requestId,
      interactionsRemoved: r.interactionsRemoved,
      itemsAffected: r.itemsAffected,
      recordMs,
    });
  }
}

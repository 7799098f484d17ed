// The model's public types: what the stream, state and http layers see of the matrices.
// The model itself is pure and synchronous: no I/O, no clock; time arrives inside events.

import type { SimilarityMeasure } from './similarity.js';

export type Action = 'ADD' | 'REMOVE';

export interface InteractionEvent {
  readonly userId: string;
  readonly itemId: string;
  readonly action: Action;
  /** Epoch ms when the interaction happened (the stream fills in the record timestamp). */
  readonly occurredAt: number;
}

export interface ForgetRequest {
  readonly userId: string;
  /** Epoch ms of the request; later-arriving interactions of this user with occurredAt <= it are dropped. */
  readonly requestedAt: number;
}

/** What one interaction did to the state. */
/** 'expired': an ADD older than the last expiry cutoff (INTERACTION_TTL_MS), not applied. */
export type InteractionOutcome = 'applied' | 'duplicate' | 'suppressed-late' | 'expired';

export interface ForgetResult {
  /** Interactions of the user that were removed from H. */
  readonly interactionsRemoved: number;
  /** Items whose n changed (= interactionsRemoved: H is binary). */
  readonly itemsAffected: number;
}

export interface Neighbor {
  readonly itemId: string;
  readonly similarity: number;
  readonly cooccurrences: number;
}

export interface NeighborList {
  readonly itemId: string;
  /** n_i */
  readonly interactions: number;
  /** Similarity descending, then neighbour itemId ascending (plain string order). */
  readonly neighbors: readonly Neighbor[];
  /** Epoch ms of the flush that produced this version of the list (when the caller gave one). */
  readonly updatedAt?: number;
}

export interface PairSimilarity {
  readonly similarity: number;
  readonly cooccurrences: number;
  readonly interactionsA: number;
  readonly interactionsB: number;
}

export interface Recommendation {
  readonly itemId: string;
  readonly score: number;
}

/** Consolidated result of a batch: one final list per changed item, and the items that disappeared. */
export interface ChangeReport {
  readonly changed: readonly NeighborList[];
  /** Items whose n reached 0 (and that had been reported before): publish a tombstone. */
  readonly removed: readonly string[];
  /**
   * Only from a flush begun with `{ previous: true }`: the list every changed or removed item had
   * before this flush (an item reported for the first time has none).
   */
  readonly previous?: ReadonlyMap<string, NeighborList>;
}

/** What a recommendation reads of a list: the neighbours' ids and similarities, in list order. */
export type ScoredNeighbors = readonly Pick<Neighbor, 'itemId' | 'similarity'>[];

export interface ModelOptions {
  /** K of the top-K lists (default 20). */
  readonly topK: number;
  /** S_ij of the lists and pair queries (default 'jaccard'; similarity.ts). */
  readonly similarity: SimilarityMeasure;
  /** Only pairs with C_ij >= this appear in lists (default 1). */
  readonly minCooccurrences: number;
  /** How long a forgotten user's tombstone suppresses late events, ms (default 30 days). */
  readonly tombstoneRetentionMs: number;
  /** Secret key for the tombstones' keyed hash of user ids (HMAC-SHA-256). */
  readonly tombstoneKey: string;
  /**
   * Items a user holds at most (default 10,000): an ADD for a user at the cap first removes their
   * oldest interaction (arrival order), as a REMOVE would. Bounds the work of one user, O(h²).
   */
  readonly maxItemsPerUser: number;
  /**
   * Bytes the model may hold (estimated, see memory.ts; default: unbounded). Decides whether C is a
   * dense square or sparse rows, and an interaction that would need more throws ModelCapacityError
   * (code MODEL_MEMORY_EXCEEDED) before changing anything.
   */
  readonly memoryBudgetBytes: number;
  /**
   * INTERACTION_TTL_MS (default 0: off). When > 0 the model keeps each interaction's time (8 bytes
   * more each) and the caller expires them with expireBefore(now − TTL): the model has no clock.
   * The cap's oldest is then the interaction with the smallest time (ties: arrival), see ttl rules
   * in docs/contract.md.
   */
  readonly interactionTtlMs: number;
}

export interface ModelStats {
  readonly users: number;
  readonly items: number;
  /** Unordered item pairs with C_ij > 0. */
  readonly pairs: number;
  /** Estimated bytes held: the matrices, the top-K index, histories, dictionaries, lists, tombstones. */
  readonly bytes: number;
  readonly tombstones: number;
}

// Two small objects the single mode's pieces share instead of callbacks: the model held now (one
// slot, replaced whole by every rebuild and reset) and the roles of the subscribed topics.
import type { Config } from '../config.js';
import type { Model } from '../model/index.js';

/** The model this instance holds now; the pieces read it here, a rebuild replaces it here. */
export class ModelSlot {
  constructor(private model: Model) {}

  get current(): Model {
    return this.model;
  }

  replace(model: Model): void {
    this.model = model;
  }
}

/** The topics the group consumer subscribes to, by role. */
export class TopicRoles {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /**
   * Deletions first: kafkajs hands a fetch's batches over in subscription order, so a deletion
   * request is applied (and its receipt flushed) before the interactions fetched with it.
   */
  readonly all: readonly string[];

  constructor(topics: Config['topics']) {
    this.inputs = [topics.interactions, topics.deletions];
    this.outputs = [topics.similarities, topics.receipts];
    this.all = [topics.deletions, topics.interactions, ...this.outputs];
  }

  readonly isInput = (topic: string): boolean => this.inputs.includes(topic);
}

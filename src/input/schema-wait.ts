// Resolving the schema ids a batch of records uses before decoding it (decoding stays synchronous),
// the same way in both modes: an unreachable registry is waited for with the retry policy — never
// dead-lettered — while the caller keeps its group membership; an id the registry does not know is
// not an error here (its records go to the DLQ when decoded).
import type { KafkaMessage } from 'kafkajs';
import { describeError, isAmnesiaError } from '../errors.js';
import type { SchemaRegistryClient } from '../kafka/registry.js';
import { retry } from '../kafka/retry.js';
import type { Logger } from '../log.js';
import { prefetchSchemas, uncachedSchemaIds } from './codec.js';

export interface SchemaWaitContext {
  readonly log: Logger;
  /** Heartbeat (or pause) while many ids are fetched and between attempts. */
  readonly heartbeat?: (() => Promise<void>) | undefined;
  /** True once the caller stops: the last failure is thrown. */
  readonly stopping: () => boolean;
}

export async function resolveSchemas(
  messages: readonly Pick<KafkaMessage, 'value'>[],
  registry: SchemaRegistryClient | undefined,
  ctx: SchemaWaitContext,
): Promise<void> {
  const ids = uncachedSchemaIds(
    messages.map((m) => m.value),
    registry,
  );
  if (ids.length === 0) return;
  await retry(() => prefetchSchemas(ids, registry, ctx.heartbeat), {
    initialDelayMs: 250,
    // Only an unreachable registry waits here; a heartbeat failing (rebalance) ends the batch.
    retriable: (e) => isAmnesiaError(e, 'REGISTRY_UNAVAILABLE'),
    stopping: ctx.stopping,
    beforeWait: ctx.heartbeat,
    onRetry: (e, attempt, delayMs) =>
      ctx.log.warn(
        { err: describeError(e), attempt, retryInMs: delayMs },
        'schema registry unavailable, retrying',
      ),
  });
}

// Classifying what kafkajs throws when outputs are delivered, so that each failure gets the one
// right response (measured against Kafka 4.1.2; see docs/operations.md):
// - fenced: another producer with our transactional id started (or the broker aborted our
//   transaction after its timeout): this producer is dead and this instance may not be active;
// - producer: the producer is unusable (its transaction state is broken): recreate it, retry;
// - record: the broker refuses a record (too large, invalid): retrying the same bytes cannot work;
// - config: a codec or feature is missing: retrying cannot work, the operator must act;
// - retriable: anything else (connection, timeouts, leadership moves, coordinator loading).
// Why a broker could not be reached at all is said in words by unreachableReason (kafka/reach.ts).

export type KafkaFailure = 'fenced' | 'producer' | 'record' | 'config' | 'retriable';

const FENCED = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);
const PRODUCER = new Set([
  'UNKNOWN_PRODUCER_ID',
  'INVALID_TXN_STATE',
  'INVALID_PRODUCER_ID_MAPPING',
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'DUPLICATE_SEQUENCE_NUMBER',
  'INVALID_TRANSACTION_TIMEOUT',
]);
const RECORD = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE']);
/** kafkajs's transaction state machine refusing to go on after a failed commit or abort. */
const BROKEN_STATE = /Cannot (call ".*" in state|continue to use transaction once ended)/;

/** The error and its causes, outermost first (kafkajs wraps protocol errors in retry errors). */
export function* errorChain(e: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  for (
    let cur = e;
    cur !== undefined && cur !== null && !seen.has(cur);
    cur = (cur as { cause?: unknown }).cause
  ) {
    seen.add(cur);
    yield cur;
    const original = (cur as { originalError?: unknown }).originalError;
    if (original !== undefined) yield original;
  }
}

/**
 * The transaction coordinator is still completing our previous transaction (writing its markers):
 * the request did nothing and may be repeated on the same transaction in a moment (the Java client
 * retries it every 20 ms).
 */
export function isConcurrentTransaction(e: unknown): boolean {
  for (const c of errorChain(e))
    if ((c as { type?: unknown }).type === 'CONCURRENT_TRANSACTIONS') return true;
  return false;
}

export function classifyKafkaError(e: unknown): KafkaFailure {
  let producer = false;
  let record = false;
  for (const c of errorChain(e)) {
    const type = (c as { type?: unknown }).type;
    const name = (c as { name?: unknown }).name;
    const message = c instanceof Error ? c.message : '';
    if (typeof type === 'string' && FENCED.has(type)) return 'fenced';
    if (typeof type === 'string' && PRODUCER.has(type)) producer = true;
    if (typeof type === 'string' && RECORD.has(type)) record = true;
    if (BROKEN_STATE.test(message)) producer = true;
    if (name === 'KafkaJSNotImplemented') return 'config';
  }
  if (record) return 'record';
  if (producer) return 'producer';
  return 'retriable';
}

// The identities the partitioned mode works with: a user's token (a keyed hash: the raw user id
// never leaves the user stage), the hashed key of a (user, item) changelog record (so that the
// tombstones compaction leaves behind name neither), and the item partition of an item id — Java's
// murmur2, as kafkajs's default partitioner and the Java client compute it, so that a list's
// partition on item-similarities is the same whichever mode or client wrote it.
import { createHash } from 'node:crypto';

// The token is the shared core's (both modes key users by it where they keep anything per user).
export { TOKEN_LENGTH, userToken } from '../state/tombstone-key.js';

/** The changelog key of a (user, item) record: 128 bits of SHA-256(token ‖ item), base64url. */
export function pairHash(token: string, itemId: string): string {
  return createHash('sha256').update(token).update(itemId).digest('base64url').slice(0, 22);
}

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Java's (and kafkajs's) murmur2 of the UTF-8 bytes of a key, as a signed 32-bit integer. */
export function murmur2(key: string | Buffer): number {
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a keyed record among `partitions`, as the default partitioners place it. */
export function partitionOf(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** Item id → item partition, memoised (item ids repeat across chunks). */
export class ItemPartitions {
  private readonly cache = new Map<string, number>();

  constructor(readonly count: number) {}

  of(itemId: string): number {
    let p = this.cache.get(itemId);
    if (p === undefined) {
      p = partitionOf(itemId, this.count);
      if (this.cache.size > 1_000_000) this.cache.clear();
      this.cache.set(itemId, p);
    }
    return p;
  }
}

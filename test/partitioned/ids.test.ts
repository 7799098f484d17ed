// Item partitions agree with kafkajs's default partitioner (Java's murmur2): a list lands in the same
// partition of item-similarities whichever mode or client wrote it. Tokens and pair keys are keyed
// hashes that never contain the id.
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { pairHash, partitionOf, userToken } from '../../src/partitioned/ids.js';

describe('item partitions and tokens', () => {
  it('places every key where kafkajs’s default partitioner does, for any partition count', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        (key, n) => {
          const partitionMetadata = Array.from({ length: n }, (_, p) => ({
            partitionId: p,
            leader: 0,
            partitionErrorCode: 0,
            replicas: [0],
            isr: [0],
          }));
          const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
          expect(partitionOf(key, n)).toBe(expected);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('tokens depend on the key, hold no id and differ between users; pair keys differ per item', () => {
    const a = userToken('key-one-sixteen-chars', 'alice');
    expect(a).toHaveLength(22);
    expect(a).not.toContain('alice');
    expect(userToken('key-one-sixteen-chars', 'alice')).toBe(a);
    expect(userToken('key-two-sixteen-chars', 'alice')).not.toBe(a);
    expect(userToken('key-one-sixteen-chars', 'bob')).not.toBe(a);
    expect(pairHash(a, 'item-1')).not.toBe(pairHash(a, 'item-2'));
    expect(pairHash(a, 'item-1')).not.toContain('item-1');
  });
});

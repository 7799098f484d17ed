import { describe, expect, it } from 'vitest';
import { PartitionMap, partitionsOf, samePartitions } from '../../src/kafka/partitions.js';

describe('partition keys', () => {
  it('keep topics with colons and partitions apart, and count them', () => {
    const m = new PartitionMap<number>();
    m.set({ topic: 'a:1', partition: 2 }, 1).set({ topic: 'a', partition: 12 }, 2);
    m.set({ topic: 'a:1', partition: 2 }, 3);
    expect(m.size).toBe(2);
    expect(m.get({ topic: 'a:1', partition: 2 })).toBe(3);
    expect(m.get({ topic: 'a:12', partition: 0 })).toBeUndefined();
    expect([...m.keys()]).toEqual([
      { topic: 'a:1', partition: 2 },
      { topic: 'a', partition: 12 },
    ]);
    expect(m.delete({ topic: 'a', partition: 12 })).toBe(true);
    expect(m.topics()).toEqual(['a:1']);
    expect(m.size).toBe(1);
  });

  it('read an assignment and compare assignments regardless of order', () => {
    const a = partitionsOf({ t: [2, 0], u: [1] });
    expect(a).toEqual([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 2 },
      { topic: 'u', partition: 1 },
    ]);
    expect(samePartitions(a, partitionsOf({ u: [1], t: [0, 2] }))).toBe(true);
    expect(samePartitions(a, partitionsOf({ u: [1], t: [0, 1] }))).toBe(false);
    expect(samePartitions(a, partitionsOf({ t: [0, 2] }))).toBe(false);
  });
});

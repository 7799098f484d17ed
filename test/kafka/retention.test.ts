import { describe, expect, it } from 'vitest';
import { PartitionMap } from '../../src/kafka/partitions.js';
import { DeletionGapGuard, retentionGaps } from '../../src/kafka/retention.js';

const tp = (topic: string, partition: number) => ({ topic, partition });

describe('what retention deleted before the state applied it', () => {
  it('is the records between where the state stands and the log start', () => {
    const marks = PartitionMap.of([
      [tp('d', 0), { low: 5 }],
      [tp('d', 1), { low: 0 }],
      [tp('i', 0), { low: 7 }],
    ]);
    expect(
      retentionGaps([tp('d', 0), tp('d', 1), tp('i', 0)], marks, PartitionMap.of([[tp('i', 0), 9]])),
    ).toEqual([{ ...tp('d', 0), lost: 5 }]);
  });

  it('lets a replay go on only with interactions recorded after every lost deletion request', () => {
    const g = new DeletionGapGuard([tp('d', 0), tp('d', 1)], () => 1_000);
    expect(g.allows(0)).toBe(true); // not sealed: the deletions are still being read
    g.noteDeletion(tp('d', 0), 300);
    g.noteDeletion(tp('d', 0), 200); // only the first retained record counts
    g.noteDeletion(tp('d', 2), 900); // not truncated
    expect(g.seal()).toBe(1_000); // d:1 was emptied: its lost requests may be as recent as now
    expect(g.allows(999)).toBe(false);
    expect(g.allows(1_000)).toBe(true);
    const h = new DeletionGapGuard([tp('d', 0)]);
    h.noteDeletion(tp('d', 0), 300);
    expect(h.seal()).toBe(300);
    expect(h.allows(299)).toBe(false);
    expect(new DeletionGapGuard([]).seal()).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { Positions } from '../../src/kafka/positions.js';

const isIn = (t: string) => t === 'in';

describe('positions', () => {
  it('commit only what moved since the last commit, for the input topics', () => {
    const p = new Positions();
    p.hold([
      { topic: 'in', partition: 0 },
      { topic: 'in', partition: 1 },
      { topic: 'out', partition: 0 },
    ]);
    p.set({ topic: 'in', partition: 0 }, 5);
    p.set({ topic: 'in', partition: 1 }, 0);
    p.set({ topic: 'out', partition: 0 }, 9);
    expect(p.uncommitted(isIn)).toEqual([
      { topic: 'in', partition: 0, offset: 5 },
      { topic: 'in', partition: 1, offset: 0 },
    ]);
    p.markCommitted(p.uncommitted(isIn));
    p.set({ topic: 'in', partition: 1 }, 3);
    expect(p.uncommitted(isIn)).toEqual([{ topic: 'in', partition: 1, offset: 3 }]);
  });

  it('report lag from the last high-water mark, and forget positions on a new assignment', () => {
    const p = new Positions();
    const tp = { topic: 'in', partition: 0 };
    p.hold([tp]);
    p.set(tp, 4);
    expect(p.lag(isIn)).toEqual([]); // no fetch yet
    p.noteHighWatermark(tp, 10);
    expect(p.lag(isIn)).toEqual([{ ...tp, lag: 6 }]);
    p.hold([tp]);
    expect(p.get(tp)).toBeUndefined();
    p.release();
    expect(p.holds(tp)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { decideOnJoin, othersWentAhead } from '../../src/single/membership.js';

const tp = (topic: string, partition: number) => ({ topic, partition });

describe('what an assignment means', () => {
  it('nothing assigned: stand by; the same partitions while live: keep; anything else: rebuild', () => {
    const held = [tp('a', 0), tp('a', 1)];
    expect(decideOnJoin(true, held, [])).toBe('standby');
    expect(decideOnJoin(true, held, [tp('a', 1), tp('a', 0)])).toBe('keep');
    expect(decideOnJoin(false, held, held)).toBe('rebuild');
    expect(decideOnJoin(true, held, [tp('a', 0)])).toBe('rebuild');
  });

  it('another member went ahead when a committed offset is past our position', () => {
    const ours = [
      { ...tp('a', 0), offset: 10 },
      { ...tp('a', 1), offset: 5 },
    ];
    expect(othersWentAhead([{ ...tp('a', 0), offset: 10 }], ours)).toBe(false);
    expect(othersWentAhead([{ ...tp('a', 0), offset: 3 }], ours)).toBe(false);
    expect(othersWentAhead([{ ...tp('a', 1), offset: 6 }], ours)).toBe(true);
  });
});

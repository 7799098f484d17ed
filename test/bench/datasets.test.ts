// The benchmarks replay a data set in event-time order: earlier events first, events of the same
// time in the order the file lists them.
import { describe, expect, it } from 'vitest';
import { byTime, type EventStream } from '../../bench/datasets.js';

describe('byTime', () => {
  it('orders events by time and keeps the file order among equal times', () => {
    const s: EventStream = {
      name: 't',
      users: Int32Array.from([0, 1, 2, 3]),
      items: Int32Array.from([10, 11, 12, 13]),
      times: Float64Array.from([30, 10, 30, 20]),
      userNames: ['a', 'b', 'c', 'd'],
      itemNames: [],
    };
    const t = byTime(s);
    expect(Array.from(t.users)).toEqual([1, 3, 0, 2]);
    expect(Array.from(t.items)).toEqual([11, 13, 10, 12]);
    expect(Array.from(t.times)).toEqual([10, 20, 30, 30]);
  });
});

import { describe, expect, it } from 'vitest';
import { detectFormat, parseLine } from '../../src/cli/csv.js';

describe('interaction CSVs', () => {
  it('reads MovieLens ratings with seconds turned into milliseconds', () => {
    const f = detectFormat('userId,movieId,rating,timestamp');
    expect(f).toEqual({ delimiter: ',', layout: 'movielens', hasHeader: true });
    expect(parseLine('414,356,4.0,1493846415', f)).toEqual({
      userId: '414',
      itemId: '356',
      occurredAt: 1493846415000,
    });
  });

  it('reads the ::-separated ratings.dat without a header', () => {
    const f = detectFormat('1::1193::5::978300760');
    expect(f).toEqual({ delimiter: '::', layout: 'movielens', hasHeader: false });
    expect(parseLine('1::1193::5::978300760', f)).toEqual({
      userId: '1',
      itemId: '1193',
      occurredAt: 978300760000,
    });
  });

  it('reads generic userId,itemId[,timestamp-ms]', () => {
    const f = detectFormat('userId,itemId,timestamp');
    expect(f.layout).toBe('generic');
    expect(parseLine('alice,book-1,1700000000123', f)).toEqual({
      userId: 'alice',
      itemId: 'book-1',
      occurredAt: 1700000000123,
    });
    const g = detectFormat('alice,book-1');
    expect(g).toEqual({ delimiter: ',', layout: 'generic', hasHeader: false });
    expect(parseLine('alice,book-1', g)).toEqual({ userId: 'alice', itemId: 'book-1' });
  });

  it('skips blank and malformed lines', () => {
    const f = detectFormat('userId,itemId');
    expect(parseLine('', f)).toBeUndefined();
    expect(parseLine('onlyone', f)).toBeUndefined();
    expect(parseLine('a,b,notatime', f)).toBeUndefined();
  });
});

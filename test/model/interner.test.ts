// The interner's paging by slot range: only slots in use that pass the filter, in slot order, with a
// cursor that resumes exactly where the previous page stopped and is undefined once nothing is left.
import { describe, expect, it } from 'vitest';
import { Interner } from '../../src/model/interner.js';

function interner(names: string[]): Interner {
  const d = new Interner();
  for (const n of names) d.intern(n);
  return d;
}

describe('Interner.page', () => {
  it('walks the slots in use in slot order, skipping released ones and those the filter rejects', () => {
    const d = interner(['a', 'b', 'c', 'd', 'e', 'f']);
    d.release(1);
    d.release(4);
    const odd = (slot: number) => slot !== 3; // slot 3 ('d') is filtered out
    expect(d.page(0, 2, odd)).toEqual({ ids: ['a', 'c'], next: 5 });
    expect(d.page(5, 2, odd)).toEqual({ ids: ['f'], next: undefined });
    expect(d.page(0, 10, () => true)).toEqual({ ids: ['a', 'c', 'd', 'f'], next: undefined });
  });

  it('the next cursor skips trailing slots that do not qualify, so "next" means more ids exist', () => {
    const d = interner(['a', 'b', 'c', 'd']);
    d.release(2);
    d.release(3);
    expect(d.page(0, 2, () => true)).toEqual({ ids: ['a', 'b'], next: undefined });
    expect(d.page(0, 1, () => true)).toEqual({ ids: ['a'], next: 1 });
  });

  it('accepts any cursor: past the end, negative or fractional', () => {
    const d = interner(['a', 'b']);
    expect(d.page(7, 5, () => true)).toEqual({ ids: [], next: undefined });
    expect(d.page(-3, 1, () => true)).toEqual({ ids: ['a'], next: 1 });
    expect(d.page(0.5, 5, () => true)).toEqual({ ids: ['a', 'b'], next: undefined });
    expect(new Interner().page(0, 5, () => true)).toEqual({ ids: [], next: undefined });
  });

  it('a reused slot appears at its slot position', () => {
    const d = interner(['a', 'b', 'c']);
    d.release(0);
    d.intern('z');
    expect(d.page(0, 5, () => true).ids).toEqual(['z', 'b', 'c']);
  });
});

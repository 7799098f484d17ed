import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastAccepts, zodAccepts } from '../../src/input/validate.js';

// Values near every boundary the contract draws.
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constantFrom('', 'a', 'x'.repeat(256), 'x'.repeat(257), 'ADD', 'REMOVE', 'add', ' ADD'),
  fc.string({ maxLength: 300 }),
  // Lone and paired surrogates: only well-formed ids are accepted.
  fc.constantFrom('\ud800', 'a\udc00', '\udfff\ud800', '😀', 'x\ud83d\ude00'),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    0,
    -1,
    1.5,
    1_700_000_000_000,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    NaN,
    Infinity,
  ),
  fc.integer(),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
);

describe('the fast validation path', () => {
  it('accepts exactly what the zod schema accepts (interactions)', () => {
    fc.assert(
      fc.property(
        fc.record(
          { userId: anyValue, itemId: anyValue, action: anyValue, occurredAt: anyValue, eventId: anyValue },
          { requiredKeys: [] },
        ),
        (o) => {
          expect(fastAccepts('interaction', o as Record<string, unknown>)).toBe(zodAccepts('interaction', o));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('accepts exactly what the zod schema accepts (deletions)', () => {
    fc.assert(
      fc.property(
        fc.record({ requestId: anyValue, userId: anyValue, requestedAt: anyValue }, { requiredKeys: [] }),
        (o) => {
          expect(fastAccepts('deletion', o as Record<string, unknown>)).toBe(zodAccepts('deletion', o));
        },
      ),
      { numRuns: 5_000 },
    );
  });
});

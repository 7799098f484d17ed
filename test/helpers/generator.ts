// Seeded synthetic input streams for the end-to-end tests: skewed item popularity, adds, removes,
// duplicates, deletions of existing and unknown users, and late events of forgotten users.
import type { RefDeletion, RefEvent } from './oracle.js';

import { mulberry32 } from '../../bench/datasets.js';

/** mulberry32: small, fast, seeded (shared with the benchmarks). */
export const rng = mulberry32;

export interface Scenario {
  /** Before any deletion: occurredAt < every requestedAt. */
  readonly before: RefEvent[];
  readonly deletions: (RefDeletion & { requestId: string })[];
  /** Produced after the deletions' receipts: late ones (occurredAt <= requestedAt) and genuinely new ones. */
  readonly after: RefEvent[];
}

export interface ScenarioOptions {
  readonly seed: number;
  readonly users: number;
  readonly items: number;
  readonly events: number;
  readonly forget: number;
  readonly t0?: number;
}

export function scenario(o: ScenarioOptions): Scenario {
  const r = rng(o.seed);
  const t0 = o.t0 ?? 1_700_000_000_000;
  const user = () => `u${Math.floor(r() * o.users)}`;
  // Zipf-ish popularity: low item numbers are popular.
  const item = () => `i${Math.floor(o.items * r() ** 2)}`;
  const before: RefEvent[] = [];
  const held = new Map<string, string[]>();
  for (let k = 0; k < o.events; k++) {
    const u = user();
    const mine = held.get(u) ?? [];
    const roll = r();
    if (roll < 0.15 && mine.length > 0) {
      const it = mine[Math.floor(r() * mine.length)]!;
      before.push({ userId: u, itemId: it, action: 'REMOVE', occurredAt: t0 + k });
    } else if (roll < 0.22 && mine.length > 0) {
      before.push({
        userId: u,
        itemId: mine[Math.floor(r() * mine.length)]!,
        action: 'ADD',
        occurredAt: t0 + k,
      }); // duplicate
    } else if (roll < 0.25) {
      before.push({ userId: u, itemId: item(), action: 'REMOVE', occurredAt: t0 + k }); // likely not held
    } else {
      const it = item();
      mine.push(it);
      held.set(u, mine);
      before.push({ userId: u, itemId: it, action: 'ADD', occurredAt: t0 + k });
    }
  }
  const requestedAt = t0 + o.events + 1_000;
  const users = [...held.keys()];
  const deletions: Scenario['deletions'] = [];
  for (let k = 0; k < o.forget && users.length > 0; k++) {
    const u = users.splice(Math.floor(r() * users.length), 1)[0]!;
    deletions.push({ requestId: `req-${o.seed}-${k}`, userId: u, requestedAt });
  }
  deletions.push({ requestId: `req-${o.seed}-ghost`, userId: 'never-seen-user', requestedAt });
  const after: RefEvent[] = [];
  for (const d of deletions.slice(0, -1)) {
    // late events: occurred before the request, arrive after it → dropped
    for (let k = 0; k < 3; k++)
      after.push({ userId: d.userId, itemId: item(), action: 'ADD', occurredAt: requestedAt - 1 - k });
  }
  const returning = deletions.slice(0, Math.ceil(deletions.length / 3));
  for (const d of returning.slice(0, -1)) {
    // a returning user: events after the request are accepted
    for (let k = 0; k < 2; k++)
      after.push({ userId: d.userId, itemId: item(), action: 'ADD', occurredAt: requestedAt + 10 + k });
  }
  for (let k = 0; k < Math.floor(o.events / 10); k++) {
    after.push({
      userId: `late-${Math.floor(r() * o.users)}`,
      itemId: item(),
      action: 'ADD',
      occurredAt: requestedAt + 100 + k,
    });
  }
  return { before, deletions, after };
}

// The partitioned mode's tasks without a broker: user tasks read generated input records (JSON, some
// malformed), their transactions' deltas go to item tasks, the item tasks' acks come back; the
// lists the item tasks publish equal the brute-force lists, every request gets one FORGOTTEN and,
// once the purge bound has passed, one PURGED receipt; a task restored from its changelog goes on.
import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/partitioned/ids.js';
import { scenario } from '../helpers/generator.js';
import { bruteForceLists, survivingHistory } from '../helpers/oracle.js';
import { P, produce, publishedLists, pump, TOPICS, world } from '../helpers/partitioned-tasks.js';

describe('partitioned tasks (Kafka faked)', () => {
  const s = scenario({ seed: 5, users: 30, items: 25, events: 500, forget: 5 });

  it('publish exactly the brute-force lists and one FORGOTTEN, then one PURGED, per request', async () => {
    let now = 1_000_000;
    const w = world(() => now);
    produce(w, s, 'before');
    w.log.append(TOPICS.interactions, 0, 'bad', '{not json');
    for (const d of s.deletions)
      w.log.append(TOPICS.deletions, partitionOf(d.userId, P), d.userId, JSON.stringify(d));
    await pump(w);
    produce(w, s, 'after');
    await pump(w);
    expect(publishedLists(w)).toEqual(
      bruteForceLists(survivingHistory([...s.before, ...s.after], s.deletions), 4, 1),
    );
    const receipts = () =>
      w.log
        .records(TOPICS.receipts, 0)
        .map((m) => JSON.parse(m.value!.toString()) as { requestId: string; status: string });
    expect(
      receipts()
        .map((r) => `${r.requestId} ${r.status}`)
        .sort(),
    ).toEqual(s.deletions.map((d) => `${d.requestId} FORGOTTEN`).sort());
    now += 5_001;
    for (const t of w.users) await t.periodic(now);
    expect(
      receipts()
        .filter((r) => r.status === 'PURGED')
        .map((r) => r.requestId)
        .sort(),
    ).toEqual(s.deletions.map((d) => d.requestId).sort());
    expect(w.log.records('in.dlq', 0)).toHaveLength(1);
  });
});

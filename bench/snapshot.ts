// Snapshot benchmark: write time, size, event-loop stall and restore time of the whole state, for
// ml-latest-small and a synthetic stream, plus the alternative of storing C instead of rebuilding it.
//
//   npm run bench:snapshot -- [--dataset bench/data/ml-latest-small/ratings.csv]
//                             [--events 1000000 --users 20000 --items 5000] [--json]
//
// Targets (docs/durability.md): write ≤ 1 s, restore ≤ 1 s, stall ≤ 200 ms.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/log.js';
import { Model, type ModelState } from '../src/model/index.js';
import { decodeSnapshot, type Snapshot } from '../src/state/format.js';
import { SnapshotStore } from '../src/state/store.js';
import { readCsv, synthetic, type EventStream } from './datasets.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'bench/data/ml-latest-small/ratings.csv' },
    events: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '20000' },
    items: { type: 'string', default: '5000' },
    json: { type: 'boolean', default: false },
  },
});
const say = (m: string) => {
  if (!args.json) process.stderr.write(`${m}\n`);
};
const ms = (t: number) => Math.round(t * 10) / 10;

function build(s: EventStream): Model {
  const m = new Model({ topK: 20 });
  for (let e = 0; e < s.users.length; e++) {
    m.interaction({
      userId: s.userNames[s.users[e] as number] as string,
      itemId: s.itemNames[s.items[e] as number] as string,
      action: 'ADD',
      occurredAt: s.times[e] as number,
    });
    if ((e + 1) % 100_000 === 0) m.flush(1);
  }
  m.flush(1);
  return m;
}

/**
 * Bytes of the nonzero upper triangle of C as (Δcolumn varint, count varint) per row: the alternative
 * of storing C instead of rebuilding it. Counted here from H with a triangle of its own.
 */
function storedCEstimate(state: ModelState, slots: number): { pairs: number; bytes: number } {
  if (slots > 20_000) return { pairs: NaN, bytes: NaN };
  const tri = new Uint32Array((slots * (slots - 1)) / 2);
  const at = (i: number, j: number) => (i * (i - 1)) / 2 + j; // i > j
  for (const h of state.histories) {
    const sorted = Int32Array.from(h).sort();
    for (let p = 0; p < sorted.length; p++)
      for (let q = 0; q < p; q++) {
        const idx = at(sorted[p] as number, sorted[q] as number);
        tri[idx] = (tri[idx] as number) + 1;
      }
  }
  const varint = (v: number) => (v < 128 ? 1 : v < 16_384 ? 2 : v < 2_097_152 ? 3 : 4);
  let bytes = 0;
  let pairs = 0;
  for (let i = 0; i < slots; i++) {
    let prev = i;
    let len = 0;
    for (let j = i + 1; j < slots; j++) {
      const c = tri[at(j, i)] as number;
      if (c === 0) continue;
      pairs++;
      len++;
      bytes += varint(j - prev) + varint(c);
      prev = j;
    }
    bytes += varint(len);
  }
  return { pairs, bytes };
}

async function measure(s: EventStream) {
  say(`${s.name}: ${s.users.length} events`);
  const b0 = performance.now();
  const model = build(s);
  const buildS = (performance.now() - b0) / 1000;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'amnesia-bench-'));
  try {
    const store = new SnapshotStore({ dir, retain: 2, log: createLogger('silent') });
    await store.init();
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    // What the engine does in its queue (synchronously): copy the state.
    const c0 = performance.now();
    const state = model.exportState();
    const captureMs = performance.now() - c0;
    const snapshot: Snapshot = {
      createdAt: Date.now(),
      offsets: [{ topic: 'interactions', partition: 0, offset: s.users.length }],
      purges: [],
      state,
    };
    const w = await store.write(snapshot);
    loop.disable();
    // Restore: read, verify, decode, rebuild C and the lists.
    const r0 = performance.now();
    const buf = await readFile(w.file.path);
    const r1 = performance.now();
    const decoded = decodeSnapshot(buf);
    const r2 = performance.now();
    const restored = Model.fromState(decoded.state, { topK: 20 });
    const r3 = performance.now();
    const same = model
      .itemIds()
      .every((id) => JSON.stringify(model.neighbors(id)) === JSON.stringify(restored.neighbors(id)));
    const alt = storedCEstimate(state, state.itemNames.length);
    const stats = model.stats();
    return {
      dataset: s.name,
      events: s.users.length,
      users: stats.users,
      items: stats.items,
      pairs: stats.pairs,
      buildSeconds: Math.round(buildS * 100) / 100,
      snapshotBytes: w.bytes,
      writeMs: ms(w.durationMs),
      captureMs: ms(captureMs),
      maxEncodeChunkMs: ms(w.maxStallMs),
      stallMs: ms(Math.max(captureMs, w.maxStallMs)),
      eventLoopDelayMaxMs: ms(loop.max / 1e6),
      restoreMs: ms(r3 - r0),
      restoreReadMs: ms(r1 - r0),
      restoreDecodeMs: ms(r2 - r1),
      restoreModelMs: ms(r3 - r2),
      restoredListsIdentical: same,
      alternativeStoredC: { pairs: alt.pairs, varintBytes: alt.bytes },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const results = [];
if (args.dataset && existsSync(args.dataset)) results.push(await measure(readCsv(args.dataset)));
else say(`dataset ${args.dataset} not found: skipped`);
results.push(
  await measure(
    synthetic({
      events: Number(args.events),
      users: Number(args.users),
      items: Number(args.items),
      seed: 42,
    }),
  ),
);
if (args.json)
  process.stdout.write(
    `${JSON.stringify({ targets: { writeMs: 1000, restoreMs: 1000, stallMs: 200 }, results }, null, 2)}\n`,
  );
else
  for (const r of results)
    say(
      `  ${r.dataset}: ${(r.snapshotBytes / 1e6).toFixed(1)} MB, write ${r.writeMs} ms, stall ${r.stallMs} ms ` +
        `(capture ${r.captureMs}, chunk ${r.maxEncodeChunkMs}, loop max ${r.eventLoopDelayMaxMs}), restore ${r.restoreMs} ms ` +
        `(read ${r.restoreReadMs}, decode ${r.restoreDecodeMs}, model ${r.restoreModelMs}), identical ${r.restoredListsIdentical}; ` +
        `storing C instead: ${r.alternativeStoredC.pairs} pairs ≈ ${(r.alternativeStoredC.varintBytes / 1e6).toFixed(1)} MB`,
    );

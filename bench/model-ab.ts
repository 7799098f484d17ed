// A/B of two copies of src/model in one process, at the same moment (a shared, noisy machine makes
// figures of separate runs incomparable): each copy ingests the same stream (exact top-K every 10k
// events, timed), then, in alternation, forgets the heaviest user and a seeded sample of users on
// the full state (each forget + flush timed, then the user put back), and checks that both copies
// report the same lists for every forget.
//
//   node --expose-gc --import tsx bench/model-ab.ts --a /tmp/old/src/model/index.ts \
//     [--b src/model/index.ts] [--dataset bench/data/ml-latest-small/ratings.csv] [--rounds 3]
//
// Prints one JSON line: per copy, the ingest seconds of each round, the heaviest forget and the
// random-user p50 of each round; with --probe, the raw probe's seconds beside them (bench/probe.ts).

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { Model } from '../src/model/index.js';
import { addOf, forgetOrder, itemsByUser, readCsv } from './datasets.js';
import { rawProbeSeconds } from './probe.js';

const { values: args } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: 'src/model/index.ts' },
    dataset: { type: 'string', default: 'bench/data/ml-latest-small/ratings.csv' },
    rounds: { type: 'string', default: '3' },
    'forget-sample': { type: 'string', default: '50' },
    similarity: { type: 'string', default: 'jaccard' },
    probe: { type: 'boolean', default: false },
    'no-ingest': { type: 'boolean', default: false },
  },
});
if (args.a === undefined) throw new Error('--a <path of the other copy of src/model/index.ts>');

type ModelClass = new (options: object, repr?: object) => Model;
const load = async (p: string): Promise<ModelClass> =>
  ((await import(pathToFileURL(resolve(p)).href)) as { Model: ModelClass }).Model;
const copies = { a: await load(args.a), b: await load(args.b) };
const stream = readCsv(args.dataset);
const options = { topK: 20, maxItemsPerUser: 1_000_000, similarity: args.similarity };
const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2
    ? (s[s.length >> 1] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

function ingest(M: ModelClass): { model: Model; seconds: number } {
  const model = new M(options);
  const t0 = performance.now();
  for (let e = 0; e < stream.users.length; e++) {
    model.interaction(addOf(stream, e));
    if ((e + 1) % 10_000 === 0) model.flush();
  }
  model.flush();
  return { model, seconds: (performance.now() - t0) / 1000 };
}

const userItems = itemsByUser(stream);
const { heaviest, others } = forgetOrder(userItems);
const sample = others.slice(0, Number(args['forget-sample']));

let clock = 4_000_000_000_000;
/** Forgets u (timed with its flush), then puts the user back; the report as a string to compare. */
function forget(model: Model, u: number): { ms: number; report: string } {
  const userId = stream.userNames[u] as string;
  const t0 = performance.now();
  model.forget({ userId, requestedAt: clock - 1 });
  const report = model.flush();
  const ms = performance.now() - t0;
  for (const item of userItems.get(u) as string[])
    model.interaction({ userId, itemId: item, action: 'ADD', occurredAt: clock });
  model.flush();
  return { ms, report: JSON.stringify(report) };
}

const result: Record<'a' | 'b', { ingest: number[]; heaviest: number[]; p50: number[] }> = {
  a: { ingest: [], heaviest: [], p50: [] },
  b: { ingest: [], heaviest: [], p50: [] },
};
const probe: number[] = [];
let mismatches = 0;
const gc = (globalThis as { gc?: () => void }).gc;
const rounds = Number(args.rounds);
const models: { a?: Model; b?: Model } = {};
for (let r = 0; r < rounds; r++) {
  // Alternate which copy goes first.
  const order: ('a' | 'b')[] = r % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
  if (args.probe) probe.push(rawProbeSeconds(stream, 10_000, 20));
  for (const k of order) {
    if (models[k] !== undefined && args['no-ingest']) continue;
    delete models[k];
    gc?.();
    const { model, seconds } = ingest(copies[k]);
    models[k] = model;
    result[k].ingest.push(r3(seconds));
  }
  const a = models.a as Model;
  const b = models.b as Model;
  const pair = (u: number): [number, number] => {
    gc?.();
    const first = order[0] === 'a' ? a : b;
    const second = order[0] === 'a' ? b : a;
    const x = forget(first, u);
    const y = forget(second, u);
    if (x.report !== y.report) mismatches++;
    return order[0] === 'a' ? [x.ms, y.ms] : [y.ms, x.ms];
  };
  clock++;
  const [ha, hb] = pair(heaviest);
  result.a.heaviest.push(r3(ha));
  result.b.heaviest.push(r3(hb));
  const ms: [number[], number[]] = [[], []];
  for (const u of sample) {
    clock++;
    const [x, y] = pair(u);
    ms[0].push(x);
    ms[1].push(y);
  }
  result.a.p50.push(r3(median(ms[0])));
  result.b.p50.push(r3(median(ms[1])));
}
const summary = (xs: number[]): string => `${r3(median(xs))} (${Math.min(...xs)}–${Math.max(...xs)})`;
process.stdout.write(
  `${JSON.stringify({
    copies: { a: args.a, b: args.b },
    rounds,
    mismatches,
    ...result,
    ...(probe.length > 0 ? { probe: probe.map(r3) } : {}),
    median: Object.fromEntries(
      (['a', 'b'] as const).map((k) => [
        k,
        {
          ingest: summary(result[k].ingest),
          ...(probe.length > 0
            ? { ingestOverProbe: summary(result[k].ingest.map((s, i) => r3(s / (probe[i] as number)))) }
            : {}),
          heaviest: summary(result[k].heaviest),
          p50: summary(result[k].p50),
        },
      ]),
    ),
  })}\n`,
);

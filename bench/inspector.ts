// Inspector benchmark: the cost of the state view and of the event streams' refresh on a large
// model (default 200k users, 2 M interactions, 10k items), through the real HTTP server. The
// handlers run synchronously, so a handler's time is the event-loop stall its request causes.
//
//   npm run bench:inspector -- [--events 2000000 --users 200000 --items 10000] [--repeat 50] [--json]
//
// Target (the issue): no request stalls the event loop for more than ~50 ms at 200k users.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { inspectorRoutes } from '../src/http/inspector/routes.js';
import type { RouteSpec } from '../src/http/router.js';
import { startHttpServer } from '../src/http/server.js';
import { createLogger } from '../src/log.js';
import { Model } from '../src/model/index.js';
import { synthetic } from './datasets.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '2000000' },
    users: { type: 'string', default: '200000' },
    items: { type: 'string', default: '10000' },
    repeat: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
  },
});
const say = (m: string) => {
  if (!args.json) process.stderr.write(`${m}\n`);
};
const ms = (t: number) => Math.round(t * 100) / 100;
const repeat = Number(args.repeat);

interface Stats {
  readonly medianMs: number;
  readonly p90Ms: number;
  /** Includes garbage-collection pauses of the (large) heap that happen to fall inside. */
  readonly maxMs: number;
}
function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => ms(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { medianMs: at(0.5), p90Ms: at(0.9), maxMs: ms(s.at(-1)!) };
}
const show = (s: Stats) => `median ${s.medianMs} ms, p90 ${s.p90Ms} ms, max ${s.maxMs} ms`;

// ---------------------------------------------------------------- the model
const t0 = performance.now();
const stream = synthetic({
  events: Number(args.events),
  users: Number(args.users),
  items: Number(args.items),
  seed: 7,
});
const model = new Model({ topK: 20 });
for (let e = 0; e < stream.users.length; e++) {
  model.interaction({
    userId: stream.userNames[stream.users[e]!]!,
    itemId: stream.itemNames[stream.items[e]!]!,
    action: 'ADD',
    occurredAt: stream.times[e]!,
  });
  if ((e + 1) % 200_000 === 0) model.flush(1);
}
model.flush(1);
const totals = model.stats();
say(
  `built ${stream.name} in ${Math.round(performance.now() - t0)} ms: ${totals.users} users, ${totals.items} items`,
);

// ---------------------------------------------------------------- the server, handlers timed
const log = createLogger('silent');
const inspector = inspectorRoutes({
  model: () => model,
  writes: false,
  receipts: () => [],
  log,
  maxStreams: 8,
  // The benchmark drives the refreshes itself (tick()).
  pollMs: 3_600_000,
});
let handled: number[] = [];
const timed = inspector.routes.map((r): RouteSpec => ({
  ...r,
  handle: (ctx) => {
    const a = performance.now();
    const out = r.handle(ctx);
    handled.push(performance.now() - a);
    return out;
  },
}));
const http = await startHttpServer({
  host: '127.0.0.1',
  port: 0,
  log,
  registry: new Registry(),
  isReady: () => true,
  personalDataHold: () => undefined,
  model: () => model,
  routes: timed,
});

// ---------------------------------------------------------------- state requests
let lastPage = 0;
for (let c: number | undefined = 0; c !== undefined; c = model.userPage(c, 12).next) lastPage = c;
// Zipf: the first ids are the heaviest users and the most popular items.
const heavyUsers = stream.userNames.slice(0, 40).join(',');
const popularItems = stream.itemNames.slice(0, 40).join(',');
const requests: Record<string, string> = {
  default: '/inspector/state',
  middlePage: `/inspector/state?userCursor=${Math.floor(Number(args.users) / 2)}`,
  lastPage: `/inspector/state?userCursor=${lastPage}`,
  pagedBothSides40: '/inspector/state?limit=40&userCursor=1000&itemCursor=5000',
  explicit40x40Heaviest: `/inspector/state?users=${heavyUsers}&items=${popularItems}`,
  exactLookupHit: `/inspector/state?users=u1&items=i1&q=${stream.userNames[123_456 % stream.userNames.length]}`,
  exactLookupMiss: '/inspector/state?users=u1&items=i1&q=nobody',
};

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const perRequest: Record<string, { handler: Stats; roundTrip: Stats; bytes: number }> = {};
for (const [name, path] of Object.entries(requests)) {
  const times: number[] = [];
  handled = [];
  let bytes = 0;
  for (let k = 0; k < repeat; k++) {
    const a = performance.now();
    const r = await fetch(http.url + path);
    const text = await r.text();
    times.push(performance.now() - a);
    bytes = text.length;
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${text.slice(0, 200)}`);
  }
  const result = { handler: stats(handled), roundTrip: stats(times), bytes };
  perRequest[name] = result;
  say(`  ${name.padEnd(22)} handler ${show(result.handler)} (${bytes} bytes)`);
}
loop.disable();
const requestLoopMaxMs = ms(loop.max / 1e6);

// ---------------------------------------------------------------- eight event streams
// The default cap, the heaviest selections among them; every refresh follows one model change
// and recomputes all eight views.
const paths = Object.values(requests);
const streams = await Promise.all(
  [...paths.slice(0, 5), ...paths.slice(0, 3)].map(async (p) => {
    const ac = new AbortController();
    const r = await fetch(http.url + p.replace('/inspector/state', '/inspector/events'), {
      signal: ac.signal,
    });
    if (r.status !== 200) throw new Error(`events: ${r.status}`);
    void r.body?.pipeTo(new WritableStream()).catch(() => undefined);
    return ac;
  }),
);
const openMs = stats(handled.slice(-streams.length));
// A refresh computes one new view per event-loop turn: its stall is the longest turn (measured as
// the event-loop delay while it runs), its duration the time until all eight streams have theirs.
const refresh: number[] = [];
const refreshStall: number[] = [];
const refreshLoop = monitorEventLoopDelay({ resolution: 1 });
for (let k = 0; k < repeat; k++) {
  const action = k % 4 < 2 ? 'REMOVE' : 'ADD';
  model.interaction({ userId: 'u0', itemId: `i${k % 2}`, action, occurredAt: 2e12 + k });
  model.flush(2);
  await new Promise<void>((resolve) => setImmediate(resolve));
  refreshLoop.reset();
  refreshLoop.enable();
  const a = performance.now();
  await inspector.tick();
  refresh.push(performance.now() - a);
  refreshLoop.disable();
  refreshStall.push(refreshLoop.max / 1e6);
}
const refresh8 = stats(refresh);
const refresh8Stall = stats(refreshStall);
say(`  opening an event stream  ${show(openMs)}`);
say(
  `  refresh of ${inspector.streams()} streams     ${show(refresh8)} (longest turn: ${show(refresh8Stall)})`,
);

// What a page would cost if it had to skip every slot (every user but the last forgotten).
const a = performance.now();
model.userPage(0, Number.MAX_SAFE_INTEGER);
const fullSlotWalkMs = ms(performance.now() - a);
say(`  walking every user slot once (bound of a page skipping free slots): ${fullSlotWalkMs} ms`);
say(`  event-loop delay max during the requests: ${requestLoopMaxMs} ms`);

for (const ac of streams) ac.abort();
inspector.close();
await http.close();

const worstMs = Math.max(
  ...Object.values(perRequest).map((r) => r.handler.maxMs),
  openMs.maxMs,
  refresh8Stall.maxMs,
);
if (args.json)
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'inspector',
        dataset: stream.name,
        model: { users: totals.users, items: totals.items, pairs: totals.pairs },
        targets: { stallMs: 50 },
        requests: perRequest,
        openStream: openMs,
        refresh8Streams: { duration: refresh8, longestTurn: refresh8Stall },
        requestLoopMaxMs,
        fullSlotWalkMs,
        worstMs,
      },
      null,
      2,
    )}\n`,
  );
else say(`worst: ${worstMs} ms (target ≤ 50 ms)`);

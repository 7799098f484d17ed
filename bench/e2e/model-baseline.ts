// The model alone on the same events, in the bench's process: what the service's figures are
// compared with. Bulk ingest = interaction() for every event, then one flush (the least work any
// consumer of these events must do); chunked = a flush every `flushEvery` events (what a live service
// flushing every BATCH_MAX_MS does at a given rate); forget = forget() + flush per user, each user
// put back afterwards (as bench/model.ts does), so the reference state is unchanged.
import { Model, type ModelOptions } from '../../src/model/index.js';
import type { EventStream } from '../datasets.js';
import { load1 } from './stats.js';

export interface IngestTiming {
  readonly seconds: number;
  /** CPU time of the process meanwhile (user + system, GC threads included, as for the service). */
  readonly cpuSeconds: number;
  readonly applySeconds: number;
  readonly flushSeconds: number;
  readonly flushes: number;
  /** The 1-minute load average right after. */
  readonly load1: number;
}

export function ingest(
  model: Model,
  s: EventStream,
  flushEvery = Number.POSITIVE_INFINITY,
  userPrefix = '',
): IngestTiming {
  let apply = 0;
  let flush = 0;
  let flushes = 0;
  const cpu0 = process.cpuUsage();
  let t = performance.now();
  const doFlush = () => {
    const t1 = performance.now();
    apply += t1 - t;
    model.flush();
    flushes++;
    t = performance.now();
    flush += t - t1;
  };
  for (let e = 0; e < s.users.length; e++) {
    model.interaction({
      userId: `${userPrefix}${s.userNames[s.users[e]!]!}`,
      itemId: s.itemNames[s.items[e]!]!,
      action: 'ADD',
      occurredAt: s.times[e]!,
    });
    if ((e + 1) % flushEvery === 0) doFlush();
  }
  if (s.users.length % flushEvery !== 0 || flushes === 0) doFlush();
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds: (apply + flush) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    applySeconds: apply / 1000,
    flushSeconds: flush / 1000,
    flushes,
    load1: load1(),
  };
}

/** A new model with `options`, fed `s`; returns the model and its timing. */
export function modelIngest(
  options: Partial<ModelOptions>,
  s: EventStream,
  flushEvery?: number,
): { model: Model; timing: IngestTiming } {
  const model = new Model(options);
  return { model, timing: ingest(model, s, flushEvery) };
}

/** ms of forget() + flush for each user, on `model`; each user's items are added back afterwards. */
export function forgetTimes(model: Model, userIds: readonly string[]): number[] {
  const out: number[] = [];
  let clock = Date.now() + 86_400_000;
  for (const userId of userIds) {
    const items = model.itemsOf(userId);
    const t0 = performance.now();
    model.forget({ userId, requestedAt: clock++ });
    model.flush();
    out.push(performance.now() - t0);
    for (const itemId of items) model.interaction({ userId, itemId, action: 'ADD', occurredAt: clock });
    clock++;
    model.flush();
  }
  return out;
}

/**
 * The state a receipts run must end in (receipts.ts), computed by the model alone: the data set,
 * the users whose deletion was requested forgotten, and the background events sent (pass p of the
 * data set under users `${userPrefix}${p}-…`, as replay-worker.mjs names them).
 */
export function receiptsReference(
  options: Partial<ModelOptions>,
  s: EventStream,
  forgotten: readonly string[],
  backgrounds: readonly { readonly sent: number; readonly userPrefix: string }[],
): Model {
  const model = new Model(options);
  ingest(model, s);
  const at = Date.now();
  for (const userId of forgotten) model.forget({ userId, requestedAt: at });
  const n = s.users.length;
  for (const b of backgrounds)
    for (let k = 0; k < b.sent; k++) {
      const e = k % n;
      model.interaction({
        userId: `${b.userPrefix}${Math.floor(k / n)}-${s.userNames[s.users[e]!]!}`,
        itemId: s.itemNames[s.items[e]!]!,
        action: 'ADD',
        occurredAt: s.times[e]!,
      });
    }
  model.flush();
  return model;
}

// Where the service's CPU time goes: a V8 CPU profile (.cpuprofile, from the service child) summed
// by category. Each sample is charged to the first rule its stack matches, in the order below: the
// model (apply / flush / forget), our output encoding, our input decoding, compression, then
// kafkajs by request kind (fetch = consume, produce, transaction control), logging, reconciling a
// rebuild with the topics, the rest of our code (engine), and anything else (Node internals).
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  /** Wall time the profile spans. */
  readonly spanMs: number;
  /** ms per category, idle included (waiting for the broker, timers). */
  readonly byCategory: Readonly<Record<string, number>>;
  /** ms after the profile's start of each category's first and last sample: a rough timeline. */
  readonly windows: Readonly<Record<string, readonly [number, number]>>;
  /** Functions with the most self time (not idle). */
  readonly top: readonly { fn: string; where: string; category: string; ms: number }[];
}

const MODEL_OPS: Readonly<Record<string, string>> = {
  interaction: 'model.apply',
  forget: 'model.forget',
  flush: 'model.flush',
  beginFlush: 'model.flush',
  step: 'model.flush',
  result: 'model.flush',
};

const TXN =
  /\/protocol\/requests\/(addOffsetsToTxn|addPartitionsToTxn|endTxn|txnOffsetCommit|initProducerId|findCoordinator)\/|eosManager/;

/** The category of a stack, leaf first. */
export function categorize(stack: readonly CallFrame[]): string {
  const leaf = stack[0]?.functionName ?? '';
  if (leaf === '(garbage collector)') return 'gc';
  if (leaf === '(idle)') return 'idle';
  if (leaf === '(program)') return 'program';
  const model = [...stack].reverse().find((f) => f.url.includes('/src/model/'));
  if (model) return MODEL_OPS[model.functionName] ?? 'model.other';
  const has = (re: RegExp) => stack.some((f) => re.test(f.url));
  if (has(/\/src\/output\/(outbox|encode)\./)) return 'encode';
  if (has(/\/src\/input\/(codec|validate|intake|hold)\./)) return 'decode';
  if (has(/zstd|lz4|snappy|\/src\/kafka\/compression\./)) return 'compression';
  if (has(TXN)) return 'kafka.transaction';
  if (has(/kafkajs\/src\/(producer\/|protocol\/requests\/produce\/)/)) return 'kafka.produce';
  if (has(/kafkajs\/src\/(consumer\/|protocol\/requests\/fetch\/|protocol\/recordBatch\/)/))
    return 'kafka.consume';
  if (has(/kafkajs/)) return 'kafka.other';
  if (has(/pino|sonic-boom/)) return 'logging';
  if (has(/\/src\/input\/reconcile\./)) return 'reconcile';
  if (has(/\/src\//)) return 'engine';
  return 'other';
}

const shortUrl = (url: string): string => url.replace(/^.*\/(node_modules|src|bench)\//, '$1/');

export function summarizeProfile(profile: CpuProfile, topN = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, string>();
  const category = (id: number): string => {
    let c = categoryOf.get(id);
    if (c === undefined) {
      const stack: CallFrame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
        stack.push(byId.get(at)!.callFrame);
      categoryOf.set(id, (c = categorize(stack)));
    }
    return c;
  };
  const byCategory: Record<string, number> = {};
  const self = new Map<number, number>();
  // timeDeltas[i] is the time before sample i: charge sample i with the time until the next one.
  const window: Record<string, [number, number]> = {};
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    at += (profile.timeDeltas[i] ?? 0) / 1000;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const c = category(id);
    byCategory[c] = (byCategory[c] ?? 0) + ms;
    self.set(id, (self.get(id) ?? 0) + ms);
    const w = (window[c] ??= [at, at]);
    w[1] = at + ms;
  }
  // One entry per function (and category): a function reached along several paths has many nodes.
  const byFunction = new Map<string, { fn: string; where: string; category: string; ms: number }>();
  for (const [id, ms] of self) {
    const c = category(id);
    if (c === 'idle' || c === 'program') continue;
    const f = byId.get(id)!.callFrame;
    const fn = f.functionName || '(anonymous)';
    const where = shortUrl(f.url);
    const key = `${fn} ${where} ${c}`;
    const e = byFunction.get(key);
    if (e) e.ms += ms;
    else byFunction.set(key, { fn, where, category: c, ms });
  }
  const top = [...byFunction.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, topN)
    .map((e) => ({ ...e, ms: Math.round(e.ms) }));
  const rounded = Object.fromEntries(
    Object.entries(byCategory)
      .sort((a, b) => b[1] - a[1])
      .map(([c, ms]) => [c, Math.round(ms)]),
  );
  const windows = Object.fromEntries(
    Object.entries(window).map(([c, [a, b]]) => [c, [Math.round(a), Math.round(b)] as const]),
  );
  return {
    spanMs: Math.round((profile.endTime - profile.startTime) / 1000),
    byCategory: rounded,
    windows,
    top,
  };
}

/**
 * The profile's own Kafka-layer ratio: time on the service's thread outside the model over time in
 * the model (idle excluded): all GC charged to the layer, none of it, and (given a profile of the
 * model alone) the model's share of GC charged to the model. Both sides are slowed alike when the
 * machine is loaded, so this ratio holds up where wall and CPU times do not.
 */
export function layerCost(
  s: ProfileSummary,
  modelAlone?: ProfileSummary,
): { cost: number; costWithoutGc: number; costModelGcApart?: number; modelMs: number } {
  let model = 0;
  let busy = 0;
  for (const [c, ms] of Object.entries(s.byCategory)) {
    if (c === 'idle' || c === 'program') continue;
    busy += ms;
    if (c.startsWith('model.')) model += ms;
  }
  const gc = s.byCategory.gc ?? 0;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  // The model alone collects this much garbage per ms of model work: that much of the GC here is the
  // model's (as the model alone's time includes its GC), the rest the layer's.
  const alone = modelAlone ? layerCost(modelAlone) : undefined;
  const gcPerModelMs = alone ? (modelAlone!.byCategory.gc ?? 0) / alone.modelMs : undefined;
  const modelGc = gcPerModelMs === undefined ? 0 : Math.min(gc, gcPerModelMs * model);
  return {
    cost: r((busy - model) / model),
    costWithoutGc: r((busy - model - gc) / model),
    ...(gcPerModelMs !== undefined
      ? { costModelGcApart: r((busy - model - modelGc) / (model + modelGc)) }
      : {}),
    modelMs: model,
  };
}

/** Starts sampling this thread; the function returned stops and hands over the profile. */
export async function startCpuProfile(intervalUs = 500): Promise<() => Promise<CpuProfile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return profile as unknown as CpuProfile;
  };
}

export function summarizeProfileFile(file: string): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
}

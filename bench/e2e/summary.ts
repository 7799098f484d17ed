// The MovieLens end-to-end figures, assembled: medians of the repetitions, the derived ratios
// (Kafka layer over the model alone, transactions on over off), the targets of the issues, and a
// human summary. Every ratio is (service − baseline) / baseline, so 0.25 = 25 % more time.
import type { CatchUpResult, FilledInputs } from './catchup.js';
import type { LiveResult } from './live.js';
import type { DeliveryResult } from './delivery.js';
import type { IngestTiming } from './model-baseline.js';
import { layerCost, type ProfileSummary } from './profile.js';
import type { ReceiptResult } from './receipts.js';
import type { ListCheck } from './verify.js';
import type { latencySummary } from './stats.js';
import { median, round } from './stats.js';

export const TARGETS = {
  catchUpSeconds: 2.5,
  catchUpEventsPerSecond: 40_000,
  receiptP99Ms: 100,
  kafkaLayerCost: 0.25,
  transactionCost: 0.15,
} as const;

export interface ModelFigures {
  /** Every run of the model alone: the reference, then one before each catch-up repetition. */
  readonly runs: readonly IngestTiming[];
  readonly forget?: ReturnType<typeof latencySummary>;
  /** How the model alone holds C with the service's settings (MODEL_MEMORY_BYTES decides). */
  readonly representation: string;
  /** A profile of one run of the model alone (--profile). */
  readonly profile?: ProfileSummary;
}

export interface VariantFigures {
  readonly format: string;
  readonly guarantee: string;
  /** Each repetition, with the model-alone run made right before it. */
  catchUp?: (CatchUpResult & { readonly model: IngestTiming })[];
  catchUpProfile?: ProfileSummary | undefined;
  receipts?: ReceiptResult[];
  /** After the receipts runs: every published list against the model alone (verify.ts). */
  receiptLists?: ListCheck;
  live?: (LiveResult & { readonly model: IngestTiming })[];
  liveProfile?: ProfileSummary | undefined;
}

export interface SummaryInput {
  readonly dataset: string;
  readonly events: number;
  readonly users: number;
  readonly items: number;
  readonly partitions: number;
  readonly settings: Record<string, unknown>;
  readonly stack: string;
  readonly machine: Record<string, unknown>;
  readonly options: Record<string, unknown>;
  readonly model: ModelFigures;
  readonly delivery: DeliveryResult | undefined;
  readonly fills: Readonly<Record<string, FilledInputs>>;
  readonly variants: Readonly<Record<string, VariantFigures>>;
  readonly profileDir: string | undefined;
}

const cost = (service: number, base: number): number => round((service - base) / base, 3);
const med = <T>(xs: readonly T[], f: (x: T) => number): number => median(xs.map(f));
const pct = (x: number | undefined): string =>
  x === undefined || Number.isNaN(x) ? '–' : `${x >= 0 ? '+' : ''}${Math.round(x * 100)}%`;
const rateName = (rate: number): string => (rate === 0 ? 'max' : String(rate));

export function summarize(input: SummaryInput): { result: Record<string, unknown>; summary: string } {
  const m = input.model;
  const modelSeconds = med(m.runs, (t) => t.seconds);
  const modelCpu = med(m.runs, (t) => t.cpuSeconds);
  const variants: Record<string, Record<string, unknown>> = {};
  const meets: Record<string, boolean> = {};
  const lines: string[] = [];
  for (const [tag, v] of Object.entries(input.variants)) {
    const out: Record<string, unknown> = { format: v.format, guarantee: v.guarantee };
    const row: string[] = [tag.padEnd(9)];
    if (v.catchUp && v.catchUp.length > 0) {
      const runs = v.catchUp;
      const seconds = med(runs, (r) => r.seconds);
      const cpu = med(runs, (r) => r.cpuSeconds);
      const c = {
        seconds,
        eventsPerSecond: Math.round(input.events / seconds),
        readySeconds: med(runs, (r) => r.readySeconds),
        cpuSeconds: cpu,
        loadSeconds: med(runs, (r) => r.loadSeconds),
        listsEqualModel: runs.every((r) => r.lists.ok),
        // Each repetition against the model-alone run made right before it, then the median.
        modelSeconds: med(runs, (r) => r.model.seconds),
        kafkaLayerCost: round(
          med(runs, (r) => cost(r.seconds, r.model.seconds)),
          3,
        ),
        kafkaLayerCostCpu: round(
          med(runs, (r) => cost(r.cpuSeconds, r.model.cpuSeconds)),
          3,
        ),
        load1: med(runs, (r) => r.load1),
        runs: runs.map((r) => ({
          ...r,
          model: undefined,
          modelSeconds: round(r.model.seconds),
          modelCpuSeconds: round(r.model.cpuSeconds),
        })),
        ...(v.catchUpProfile
          ? { kafkaLayerCostProfile: layerCost(v.catchUpProfile, m.profile), profile: v.catchUpProfile }
          : {}),
      };
      out.catchUp = c;
      meets[`${tag}.catchUpSeconds`] = seconds <= TARGETS.catchUpSeconds;
      meets[`${tag}.catchUpEventsPerSecond`] = c.eventsPerSecond >= TARGETS.catchUpEventsPerSecond;
      meets[`${tag}.kafkaLayerCost`] = c.kafkaLayerCost <= TARGETS.kafkaLayerCost;
      meets[`${tag}.kafkaLayerCostCpu`] = c.kafkaLayerCostCpu <= TARGETS.kafkaLayerCost;
      if (c.kafkaLayerCostProfile)
        meets[`${tag}.kafkaLayerCostProfile`] = c.kafkaLayerCostProfile.cost <= TARGETS.kafkaLayerCost;
      const prof = c.kafkaLayerCostProfile
        ? `, profile ${pct(c.kafkaLayerCostProfile.cost)}, ${pct(c.kafkaLayerCostProfile.costModelGcApart)} with the model's GC on its side, ${pct(c.kafkaLayerCostProfile.costWithoutGc)} without GC`
        : '';
      meets[`${tag}.listsEqualModel`] = c.listsEqualModel;
      row.push(
        `catch-up ${seconds.toFixed(2)} s = ${(c.eventsPerSecond / 1000).toFixed(1)}k ev/s (ready ${c.readySeconds.toFixed(2)} s, ` +
          `cpu ${cpu.toFixed(2)} s, Kafka layer ${pct(c.kafkaLayerCost)} (cpu ${pct(c.kafkaLayerCostCpu)}${prof}), lists ${c.listsEqualModel ? 'ok' : 'WRONG'}, load ${c.load1})`,
      );
    }
    for (const r of v.receipts ?? []) {
      const l = r.latency;
      if (r.backgroundRate > 0)
        meets[`${tag}.receiptP99Ms@${r.backgroundRate}`] = l.p99Ms <= TARGETS.receiptP99Ms;
      row.push(
        `receipts p50 ${l.p50Ms} / p99 ${l.p99Ms} / max ${l.maxMs} ms under ${r.backgroundEventsPerSecond} ev/s ` +
          `(lag max ${r.lag.maxEvents} events, drained ${r.drainSeconds} s after; load ${r.load1})` +
          (r.bySize ? `; fit ${r.bySize.fixedMs} ms + ${r.bySize.msPer100Items} ms per 100 items` : ''),
      );
    }
    if (v.receipts) out.receipts = v.receipts;
    if (v.receiptLists) {
      out.receiptLists = v.receiptLists;
      row.push(`after the receipts runs: lists ${v.receiptLists.ok ? 'ok' : 'WRONG'}`);
    }
    if (v.live) {
      out.live = v.live.map((l) => ({
        ...l,
        model: undefined,
        modelChunkedSeconds: round(l.model.seconds),
        modelChunkedCpuSeconds: round(l.model.cpuSeconds),
        kafkaLayerCostCpu: cost(l.cpuSeconds, l.model.cpuSeconds),
      }));
      for (const l of v.live) {
        const ll = l.listLatency;
        row.push(
          `live ${rateName(l.rate)}: ${(l.serviceEventsPerSecond / 1000).toFixed(1)}k ev/s, list p50 ${ll.p50Ms} / p99 ${ll.p99Ms} ms, ` +
            `cpu ${l.cpuSeconds} s in ${l.chunks} chunks, lag max ${l.lag.maxEvents}, lists ${l.lists.ok ? 'ok' : 'WRONG'}, load ${l.load1}`,
        );
      }
      if (v.liveProfile) {
        const k = layerCost(v.liveProfile, m.profile);
        row.push(
          `live profile: Kafka layer ${pct(k.cost)}, ${pct(k.costModelGcApart)} with the model's GC on its side, ${pct(k.costWithoutGc)} without GC`,
        );
      }
      if (v.liveProfile)
        out.liveProfile = { kafkaLayerCost: layerCost(v.liveProfile, m.profile), ...v.liveProfile };
    }
    variants[tag] = out;
    lines.push(row.join('\n          '));
  }
  const transactionCost = transactionCosts(input.variants, meets);
  const result = {
    bench: 'e2e-movielens',
    dataset: input.dataset,
    events: input.events,
    users: input.users,
    items: input.items,
    partitions: input.partitions,
    settings: input.settings,
    service: 'child process (bench/e2e/service-child.ts: startService as src/main.ts runs it, without HTTP)',
    stack: input.stack,
    machine: input.machine,
    options: input.options,
    model: {
      bulkSeconds: round(modelSeconds),
      bulkCpuSeconds: round(modelCpu),
      representation: m.representation,
      ...(m.profile ? { profile: m.profile } : {}),
      eventsPerSecond: Math.round(input.events / modelSeconds),
      applySeconds: round(med(m.runs, (t) => t.applySeconds)),
      flushSeconds: round(med(m.runs, (t) => t.flushSeconds)),
      load1: med(m.runs, (t) => t.load1),
      runs: m.runs.map((t) => ({
        seconds: round(t.seconds),
        cpuSeconds: round(t.cpuSeconds),
        load1: t.load1,
      })),
      ...(m.forget ? { forgetMs: m.forget } : {}),
    },
    backlog: Object.fromEntries(
      Object.entries(input.fills).map(([f, x]) => [f, { ...x, schemaIds: undefined }]),
    ),
    ...(input.delivery ? { delivery: input.delivery } : {}),
    variants,
    transactionCost,
    targets: TARGETS,
    meetsTargets: meets,
    ...(input.profileDir ? { profileDir: input.profileDir } : {}),
  };
  const head =
    `MovieLens end to end: ${input.events} events (${input.users} users, ${input.items} items), ` +
    `${input.partitions} partitions, service in a child process, ${input.stack} stack\n` +
    `model alone: bulk ingest ${modelSeconds.toFixed(2)} s, cpu ${modelCpu.toFixed(2)} s (${Math.round(input.events / modelSeconds / 1000)}k ev/s; ` +
    `apply ${result.model.applySeconds} s + flush ${result.model.flushSeconds} s; C ${m.representation}; load ${result.model.load1}; median of ${m.runs.length} runs)` +
    (m.forget ? `; forget+flush p50 ${m.forget.p50Ms} / p99 ${m.forget.p99Ms} ms` : '');
  const tx = Object.entries(transactionCost)
    .map(
      ([f, t]) =>
        `transactions on vs off (${f}): ${Object.entries(t)
          .map(([k, x]) => `${k} ${pct(x)}`)
          .join(', ')}`,
    )
    .join('\n');
  const targets =
    `targets: catch-up ≤ ${TARGETS.catchUpSeconds} s / ≥ ${TARGETS.catchUpEventsPerSecond / 1000}k ev/s; receipt p99 ≤ ` +
    `${TARGETS.receiptP99Ms} ms; Kafka layer ≤ ${pct(TARGETS.kafkaLayerCost)}; transactions ≤ ${pct(TARGETS.transactionCost)}`;
  const d = input.delivery;
  const del = d
    ? `one delivery: transaction p50 ${d.transactionSpaced.p50Ms} / p99 ${d.transactionSpaced.p99Ms} ms spaced, ` +
      `p50 ${d.transactionBackToBack.p50Ms} / p90 ${d.transactionBackToBack.p90Ms} ms back to back; ` +
      `acks=all send p50 ${d.ackedSend.p50Ms} / p99 ${d.ackedSend.p99Ms} ms`
    : '';
  return { result, summary: [head, del, ...lines, tx, targets].filter((l) => l !== '').join('\n') };
}

/** Per format: exactly_once over at_least_once, for the catch-up and each live rate. */
function transactionCosts(
  variants: Readonly<Record<string, VariantFigures>>,
  meets: Record<string, boolean>,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const all = Object.values(variants);
  for (const eos of all.filter((v) => v.guarantee === 'exactly_once')) {
    const alo = all.find((v) => v.format === eos.format && v.guarantee === 'at_least_once');
    if (!alo) continue;
    const t: Record<string, number> = {};
    if (eos.catchUp?.length && alo.catchUp?.length) {
      t.catchUp = cost(
        med(eos.catchUp, (r) => r.seconds),
        med(alo.catchUp, (r) => r.seconds),
      );
      t.catchUpCpu = cost(
        med(eos.catchUp, (r) => r.cpuSeconds),
        med(alo.catchUp, (r) => r.cpuSeconds),
      );
    }
    for (const l of eos.live ?? []) {
      const a = alo.live?.find((x) => x.rate === l.rate);
      if (!a) continue;
      // At a fixed rate the wall time is the producer's: only CPU compares; as fast as possible: both.
      if (l.rate === 0) t.livemax = cost(a.serviceEventsPerSecond, l.serviceEventsPerSecond);
      t[`live${rateName(l.rate)}Cpu`] = cost(l.cpuSeconds, a.cpuSeconds);
    }
    for (const r of eos.receipts ?? []) {
      const a = alo.receipts?.find((x) => x.backgroundRate === r.backgroundRate);
      if (a) t[`receiptP99@${r.backgroundRate}`] = cost(r.latency.p99Ms, a.latency.p99Ms);
    }
    for (const [k, x] of Object.entries(t))
      if (!k.startsWith('receipt'))
        meets[`${eos.format}.transactionCost.${k}`] = x <= TARGETS.transactionCost;
    out[eos.format] = t;
  }
  return out;
}

// Every metric an alert or a dashboard panel queries is exported by the running service (in either
// MODE), and every amnesia metric the service exports is documented in docs/operations.md. Catches a renamed metric
// that would leave an alert silently evaluating to nothing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { harness } from '../helpers/service.js';
import { serveOverHttp } from '../helpers/http.js';
import { exportedNames, scrape } from '../helpers/metrics.js';
import { deleteInternalTopicsAfterAll, partitionedEnv } from '../helpers/partitioned.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

function alertExprs(): string[] {
  const rules = parse(read('deploy/prometheus/alerts.yml')) as { groups: { rules: { expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

function dashboardExprs(): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'expr' && typeof x === 'string') out.push(x);
        else walk(x);
      }
    }
  };
  walk(JSON.parse(read('deploy/grafana/dashboards/amnesia.json')));
  return out;
}

const namesIn = (exprs: readonly string[]) =>
  [...new Set(exprs.flatMap((e) => e.match(/\bamnesia_[a-z0-9_]+/g) ?? []))].sort();

/** A queried name is covered when exported as such, or as the family of a histogram's series. */
function covered(name: string, exported: { declared: Set<string>; sampled: Set<string> }): boolean {
  if (exported.declared.has(name) || exported.sampled.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && exported.declared.has(base);
}

describe('metrics used by alerts and dashboard', () => {
  it('the queries name at least the documented core series', () => {
    const used = namesIn([...alertExprs(), ...dashboardExprs()]);
    for (const n of [
      'amnesia_consumer_lag',
      'amnesia_deletion_receipt_latency_seconds_bucket',
      'amnesia_snapshot_age_seconds',
      'amnesia_dlq_records_total',
      'amnesia_ready',
      'amnesia_forget_duration_seconds_bucket',
    ]) {
      expect(used).toContain(n);
    }
  });

  it('are all exported by the running service, and every exported amnesia metric is documented', async () => {
    const h = await harness(1);
    const svc = await h.start();
    const http = await serveOverHttp(svc);
    // MODE=partitioned exports its own metrics (alerts and panels of docs/scale-out.md query them).
    const hp = await harness(1);
    deleteInternalTopicsAfterAll(hp.groupId);
    const psvc = await hp.start(partitionedEnv());
    const phttp = await serveOverHttp(psvc);
    try {
      await svc.waitUntilReady(30_000);
      await psvc.waitUntilReady(30_000);
      const single = exportedNames(await scrape(http.url));
      const partitioned = exportedNames(await scrape(phttp.url));
      const exported = {
        declared: new Set([...single.declared, ...partitioned.declared]),
        sampled: new Set([...single.sampled, ...partitioned.sampled]),
      };

      const missing = (exprs: string[]) => namesIn(exprs).filter((n) => !covered(n, exported));
      expect(missing(alertExprs()), 'queried by alerts.yml, not exported').toEqual([]);
      expect(missing(dashboardExprs()), 'queried by the dashboard, not exported').toEqual([]);

      // The runtime metrics of prom-client (process_*, nodejs_*) are documented as a group.
      const defaults = new Registry();
      collectDefaultMetrics({ register: defaults, prefix: 'amnesia_' });
      const runtime = exportedNames(await defaults.metrics()).declared;
      const docs = read('docs/operations.md');
      const undocumented = [...exported.declared]
        .filter((n) => n.startsWith('amnesia_') && !runtime.has(n))
        .filter((n) => !docs.includes(`\`${n}\``));
      expect(undocumented, 'exported, not in docs/operations.md').toEqual([]);
    } finally {
      await http.close();
      await phttp.close();
    }
  });
});

// deploy/k8s-partitioned (MODE=partitioned) agrees with the service: rendered as kustomize would
// (the base's objects, its StatefulSet deleted, the ConfigMap patched), the configuration is one the
// partitioned mode accepts (TOMBSTONE_KEY from the Secret, no snapshots, no inspector), N replicas
// without volumes get work (N ≤ partitions), one at a time may go, probes and selectors fit.
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageEnv, ROOT } from './dockerfile-replay.js';
import { render } from './k8s-render.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */

const docs = render();
const byKind = (kind: string): any[] => docs.filter((d) => d.kind === kind);
const deployment = byKind('Deployment')[0];
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const env: Record<string, string> = byKind('ConfigMap')[0].data;
const labels = deployment.spec.template.metadata.labels;
const matches = (selector: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/k8s-partitioned', () => {
  it('replaces the StatefulSet by a Deployment and keeps the Services, PodMonitor and rules', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'PodMonitor',
      'PrometheusRule',
      'Service',
      'Service',
    ]);
  });

  it('configures MODE=partitioned with a TOMBSTONE_KEY from the Secret, no snapshots, no inspector', () => {
    const refs = (container.env as any[]).map((e) => e.name as string);
    for (const name of [...Object.keys(env), ...refs]) expect(CONFIG_VARIABLES, name).toContain(name);
    const tombstone = (container.env as any[]).find((e) => e.name === 'TOMBSTONE_KEY');
    expect(tombstone.valueFrom.secretKeyRef.optional).toBeUndefined();
    const config = loadConfig({ ...env, TOMBSTONE_KEY: 'x'.repeat(32) });
    expect(config.mode).toBe('partitioned');
    expect(config.snapshot.dir).toBeUndefined();
    expect(config.inspector.enabled).toBe(false);
    expect(config.http.host).toBe('0.0.0.0');
    // PURGED's bound stays within a working day with these settings.
    const { segmentMs, maxCompactionLagMs, purgeMarginMs } = config.partitioned;
    expect(segmentMs + Math.min(60_000, segmentMs / 2) + maxCompactionLagMs + purgeMarginMs).toBeLessThan(
      8 * 3_600_000,
    );
  });

  // The same image runs both modes: its ENV turns snapshots on for single mode (SNAPSHOT_DIR on its
  // VOLUME), and a ConfigMap can only set a variable, not remove one the image sets, so the overlay
  // clears it with the empty string (which counts as unset). Issue 24: with `SNAPSHOT_DIR: null`
  // (key dropped) the image's value stayed and MODE=partitioned refused to start.
  it("is accepted on top of the image's own ENV (the container's real environment)", () => {
    const image = imageEnv(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    expect(image.SNAPSHOT_DIR).toBe('/var/lib/amnesia');
    const config = loadConfig({ ...image, ...env, TOMBSTONE_KEY: 'x'.repeat(32) });
    expect(config.mode).toBe('partitioned');
    expect(config.snapshot.dir).toBeUndefined();
  });

  it('runs several replicas, each with work, without volumes, one at a time going', () => {
    const replicas = deployment.spec.replicas as number;
    expect(replicas).toBeGreaterThan(1);
    expect(replicas).toBeLessThanOrEqual(Number(env.TOPIC_PARTITIONS));
    expect((pod.volumes as any[]).map((v) => v.name)).toEqual(['tmp']);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(byKind('PodDisruptionBudget')[0].spec.maxUnavailable).toBe(1);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(env.SHUTDOWN_TIMEOUT_MS) + 5_000);
  });

  it('probes /livez and /readyz; Services, PodMonitor and budget select the pods', () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(matches(deployment.spec.selector.matchLabels)).toBe(true);
    for (const s of byKind('Service')) expect(matches(s.spec.selector), s.metadata.name).toBe(true);
    expect(matches(byKind('PodMonitor')[0].spec.selector.matchLabels)).toBe(true);
    expect(matches(byKind('PodDisruptionBudget')[0].spec.selector.matchLabels)).toBe(true);
  });
});

// The Kubernetes manifests agree with the service: every env var is one the config knows, the
// inspector (it shows user ids) is off, probes hit the real endpoints on the configured port, the snapshot volume is where SNAPSHOT_DIR points,
// the grace period covers SHUTDOWN_TIMEOUT_MS, the pod is locked down, the Services and PodMonitor
// select the pods, and the PrometheusRule carries exactly alerts.yml. No cluster needed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { userRouteAccess } from '../../src/http/access.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIR = path.join(ROOT, 'deploy/k8s');
const read = (f: string) => readFileSync(path.join(DIR, f), 'utf8');

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
const kustomization = parse(read('kustomization.yaml')) as { resources: string[] };
const docs: any[] = kustomization.resources.flatMap((f) => parseAllDocuments(read(f)).map((d) => d.toJSON()));
const byKind = (kind: string): any[] => docs.filter((d) => d.kind === kind);
const sts = byKind('StatefulSet')[0];
const pod = sts.spec.template.spec;
const container = pod.containers[0];
const configMap = byKind('ConfigMap')[0];
const env: Record<string, string> = configMap.data;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/k8s', () => {
  it('lists only files that exist and holds the expected objects', () => {
    for (const f of kustomization.resources) expect(existsSync(path.join(DIR, f)), f).toBe(true);
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ConfigMap',
      'PodMonitor',
      'PrometheusRule',
      'Service',
      'Service',
      'StatefulSet',
    ]);
  });

  it('configures only variables the service knows, with values its config accepts', () => {
    const secretRefs = (container.env as any[]).map((e) => e.name as string);
    for (const name of [...Object.keys(env), ...secretRefs]) expect(CONFIG_VARIABLES, name).toContain(name);
    const config = loadConfig({ ...env, TOMBSTONE_KEY: 'x'.repeat(32) });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.snapshot.dir).toBe('/var/lib/amnesia');
    // The example Secret has exactly the keys the pod references.
    const secret = parse(read('secret.example.yaml')) as { stringData: Record<string, string> };
    expect(Object.keys(secret.stringData).sort()).toEqual([...secretRefs].sort());
    const tombstone = (container.env as any[]).find((e) => e.name === 'TOMBSTONE_KEY');
    expect(tombstone.valueFrom.secretKeyRef.optional).toBeUndefined();
  });

  it('keeps the inspector off while HTTP listens on the pod IP for the probes and Prometheus', () => {
    // The pod's environment: the ConfigMap, then the container's own entries (which win).
    const own = Object.fromEntries(
      (container.env as any[]).filter((e) => 'value' in e).map((e) => [e.name as string, String(e.value)]),
    );
    const config = loadConfig({ ...env, ...own, TOMBSTONE_KEY: 'x'.repeat(32) });
    expect(env.INSPECTOR_ENABLED).toBe('false');
    expect(config.inspector.enabled).toBe(false);
    expect(config.inspector.writes).toBe(false);
    expect((container.env as any[]).some((e) => String(e.name).startsWith('INSPECTOR_'))).toBe(false);
    expect(config.http.host).toBe('0.0.0.0');
  });

  it('keeps the user routes closed by default: HTTP_AUTH_TOKEN only from the Secret, empty there', () => {
    const secret = parse(read('secret.example.yaml')) as { stringData: Record<string, string> };
    const ref = (container.env as any[]).find((e) => e.name === 'HTTP_AUTH_TOKEN');
    expect(ref.valueFrom.secretKeyRef).toMatchObject({ name: 'amnesia-secrets', optional: true });
    expect(env.HTTP_AUTH_TOKEN).toBeUndefined();
    // With the example Secret applied as it is, and with no such key at all: closed.
    for (const token of [secret.stringData.HTTP_AUTH_TOKEN, undefined]) {
      const config = loadConfig({
        ...env,
        TOMBSTONE_KEY: 'x'.repeat(32),
        ...(token === undefined ? {} : { HTTP_AUTH_TOKEN: token }),
      });
      expect(userRouteAccess(config.http).kind).toBe('closed');
    }
  });

  it('runs one replica with a snapshot volume at SNAPSHOT_DIR and a grace period above the shutdown bound', () => {
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.serviceName).toBe('amnesia-headless');
    const claim = sts.spec.volumeClaimTemplates[0].metadata.name;
    const mount = (container.volumeMounts as any[]).find((m) => m.name === claim);
    expect(mount.mountPath).toBe(env.SNAPSHOT_DIR);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(env.SHUTDOWN_TIMEOUT_MS) + 5_000);
  });

  it('probes /livez (liveness, startup with a long budget) and /readyz on the HTTP port', () => {
    const port = (container.ports as any[]).find((p) => p.name === 'http');
    expect(port.containerPort).toBe(Number(env.HTTP_PORT));
    expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
    const budget = container.startupProbe.periodSeconds * container.startupProbe.failureThreshold;
    expect(budget).toBeGreaterThanOrEqual(600);
  });

  it('runs as non-root on a read-only root file system with no privileges', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.requests.memory).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('Services and PodMonitor select the pods; Prometheus annotations point at /metrics', () => {
    const labels = sts.spec.template.metadata.labels;
    expect(matches(sts.spec.selector.matchLabels, labels)).toBe(true);
    const services = byKind('Service');
    for (const s of services) {
      expect(matches(s.spec.selector, labels), s.metadata.name).toBe(true);
      expect(s.spec.ports[0].targetPort).toBe('http');
    }
    expect(services.find((s) => s.metadata.name === sts.spec.serviceName).spec.clusterIP).toBe('None');
    const pm = byKind('PodMonitor')[0];
    expect(matches(pm.spec.selector.matchLabels, labels)).toBe(true);
    expect(pm.spec.podMetricsEndpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
    expect(sts.spec.template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': env.HTTP_PORT,
      'prometheus.io/path': '/metrics',
    });
  });

  it('the PrometheusRule carries exactly deploy/prometheus/alerts.yml (node scripts/prometheusrule.mjs)', () => {
    const alerts = parse(readFileSync(path.join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
      groups: unknown;
    };
    expect(byKind('PrometheusRule')[0].spec.groups).toEqual(alerts.groups);
  });
});

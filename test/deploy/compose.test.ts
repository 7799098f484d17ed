// docker-compose.yml and the Dockerfile can only be run where a Docker engine exists; this checks,
// without one, that everything they mount, build from or copy is in the repository (or is produced
// by the build stage), that the monitoring config points at what the service exposes, and that
// the inspector (it shows user ids) is off in both.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { userRouteAccess } from '../../src/http/access.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string): string => readFileSync(path.join(ROOT, p), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  volumes?: (string | { type?: string; source?: string })[];
  environment?: Record<string, string | number> | string[];
  ports?: string[];
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };

/** The `source` of bind mounts (paths starting with . or /), relative to the compose file. */
function bindSources(svc: Service): string[] {
  return (svc.volumes ?? [])
    .map((v) => (typeof v === 'string' ? v.split(':')[0] : v.type === 'bind' ? v.source : undefined))
    .filter((s): s is string => !!s && (s.startsWith('.') || s.startsWith('/')));
}

/** Dockerfile instructions with their continuation lines joined. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** The `ENV` settings of the Dockerfile's final stage. */
function dockerfileEnv(): [string, string][] {
  const lines = instructions(read('Dockerfile'));
  const final = lines.slice(lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));
  return final
    .filter((l) => /^ENV\s/i.test(l))
    .flatMap((l) =>
      [...l.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=(\S*)/g)].map((m) => [m[1]!, m[2]!] as [string, string]),
    );
}

describe('docker-compose.yml', () => {
  it('runs Kafka 4.1, a Confluent schema registry, the service, Prometheus and Grafana', () => {
    const s = compose.services;
    expect(s.kafka?.image).toMatch(/^apache\/kafka:4\.1\./);
    expect(s['schema-registry']?.image).toMatch(/^confluentinc\/cp-schema-registry:7\./);
    expect(s.amnesia?.build).toBeDefined();
    expect(s.prometheus).toBeDefined();
    expect(s.grafana).toBeDefined();
  });

  it('every file it mounts or builds from exists', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const src of bindSources(svc)) {
        expect(existsSync(path.resolve(ROOT, src)), `${name} mounts ${src}`).toBe(true);
      }
      if (svc.build) {
        const b = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
        const ctx = path.resolve(ROOT, b.context ?? '.');
        expect(existsSync(ctx), `${name} build context`).toBe(true);
        expect(existsSync(path.join(ctx, b.dockerfile ?? 'Dockerfile')), `${name} Dockerfile`).toBe(true);
      }
    }
  });

  it('configures the service as the contract says', () => {
    const env = compose.services.amnesia?.environment as Record<string, string | number>;
    expect(env.KAFKA_BROKERS).toBe('kafka:9092');
    expect(env.SCHEMA_REGISTRY_URL).toBe('http://schema-registry:8081');
    expect(env.HTTP_HOST).toBe('0.0.0.0');
    expect(env.SNAPSHOT_DIR).toBe('/var/lib/amnesia');
    expect(
      compose.services.amnesia?.volumes?.some(
        (v) => typeof v === 'string' && v.endsWith(':/var/lib/amnesia'),
      ),
    ).toBe(true);
  });

  it('keeps the inspector off and the user routes closed (they show user data); the port on the loopback only', () => {
    const env = compose.services.amnesia?.environment as Record<string, string | number>;
    const config = loadConfig(
      Object.fromEntries([...dockerfileEnv(), ...Object.entries(env)].map(([k, v]) => [k, String(v)])),
    );
    expect(env.INSPECTOR_ENABLED).toBe('false');
    expect(config.inspector.enabled).toBe(false);
    expect(compose.services.amnesia?.ports).toEqual(['127.0.0.1:8080:8080']);
    // The container listens beyond its loopback, so the user routes are closed without a token.
    expect(env.HTTP_AUTH_TOKEN).toBeUndefined();
    expect(userRouteAccess(config.http).kind).toBe('closed');
  });

  it('creates every topic of the contract, compacting the output topics', () => {
    const script = JSON.stringify(compose.services['create-topics']);
    for (const t of ['interactions', 'interactions.dlq', 'deletion-requests', 'deletion-requests.dlq']) {
      expect(script).toContain(`--topic ${t} `);
    }
    for (const t of ['item-similarities', 'deletion-receipts']) {
      expect(script).toMatch(new RegExp(`--topic ${t} [^\\n]*cleanup\\.policy=compact`));
    }
  });
});

describe('Dockerfile', () => {
  const lines = instructions(read('Dockerfile'));
  const ignored = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('copies only sources that exist and are not excluded from the build context', () => {
    const copies = lines.filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l));
    expect(copies.length).toBeGreaterThan(0);
    for (const line of copies) {
      const args = line
        .split(/\s+/)
        .slice(1)
        .filter((a) => !a.startsWith('--'));
      for (const src of args.slice(0, -1)) {
        expect(existsSync(path.join(ROOT, src)), `COPY ${src}`).toBe(true);
        expect(ignored, `${src} is in .dockerignore`).not.toContain(src);
      }
    }
  });

  it('listens on every interface for the probes but keeps the inspector off and the user routes closed', () => {
    const env = Object.fromEntries(dockerfileEnv());
    expect(env).toMatchObject({ HTTP_HOST: '0.0.0.0', INSPECTOR_ENABLED: 'false' });
    expect(loadConfig(env).inspector.enabled).toBe(false);
    // No token baked into the image: the user routes are closed until the operator sets one.
    expect(env.HTTP_AUTH_TOKEN).toBeUndefined();
    expect(userRouteAccess(loadConfig(env).http).kind).toBe('closed');
  });

  it('runs the built service directly under an init process, as a non-root user', () => {
    expect(lines.some((l) => /^RUN .*npm ci/.test(l))).toBe(true);
    expect(lines.some((l) => /^RUN .*npm run build/.test(l))).toBe(true);
    expect(lines.some((l) => /^USER\s+(?!root)\S+/.test(l))).toBe(true);
    expect(lines).toContain('CMD ["node", "dist/main.js"]');
    expect(lines.some((l) => /^ENTRYPOINT .*tini/.test(l))).toBe(true);
    // dist/main.js comes from the build stage: tsconfig.build.json compiles src/ into dist/.
    const build = JSON.parse(read('tsconfig.build.json')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(path.join(ROOT, 'src/main.ts'))).toBe(true);
  });
});

describe('monitoring', () => {
  it('Prometheus scrapes the service /metrics on 8080', () => {
    const prom = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const job = prom.scrape_configs[0];
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job?.static_configs[0]?.targets).toContain('amnesia:8080');
  });

  it('Grafana provisions a Prometheus data source and a dashboard on the consumed-events counter', () => {
    const ds = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; url: string }[];
    };
    expect(ds.datasources[0]?.url).toBe('http://prometheus:9090');
    const provider = parse(read('deploy/grafana/provisioning/dashboards/amnesia.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(provider.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards');
    const dash = JSON.parse(read('deploy/grafana/dashboards/amnesia.json')) as {
      panels: { datasource: { uid: string }; targets: { expr: string }[] }[];
    };
    expect(dash.panels.length).toBeGreaterThan(0);
    for (const p of dash.panels) {
      expect(p.datasource.uid).toBe(ds.datasources[0]?.uid);
      expect(p.targets.every((t) => t.expr.includes('amnesia_'))).toBe(true);
    }
    expect(JSON.stringify(dash)).toContain('amnesia_events_consumed_total');
  });
});

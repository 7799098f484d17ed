// The registry client against the real registry of the test stack: per-id outcomes, thousands of
// unknown ids without "unreachable", a closed port as a retriable error, and credentials from
// SCHEMA_REGISTRY_URL as basic auth through a password-checking proxy on 127.0.0.1.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { prefetchSchemas } from '../../src/input/codec.js';
import { SchemaRegistryClient } from '../../src/kafka/registry.js';
import { localSchema } from '../../src/kafka/schemas.js';
import { registerSchema, registryClient, schemaRegistryUrl, uniqueName } from '../helpers/kafka.js';

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Forwards GETs to the real registry when the request carries `Basic user:password`, else 401. */
async function authProxy(user: string, password: string): Promise<string> {
  const upstream = schemaRegistryUrl();
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const base = new URL(upstream).pathname.replace(/\/+$/, '');
  const port = await listen(
    createServer((req, res) => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"error_code":40101,"message":"Unauthorized"}');
        return;
      }
      const path = (req.url ?? '/').slice(base.length);
      fetch(`${upstream}${path}`)
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(await r.text());
        })
        .catch(() => res.writeHead(502).end());
    }),
  );
  return `127.0.0.1:${port}${base}`;
}

describe('schema registry client against the real registry', () => {
  it('accepts the current receipt schema after the previous one under BACKWARD_TRANSITIVE', async () => {
    const subject = `${uniqueName('t-receipt')}-value`;
    const r = new SchemaRegistryClient({ url: schemaRegistryUrl() });
    await r.setCompatibility(subject, 'BACKWARD_TRANSITIVE');
    const previous = readFileSync(new URL('../fixtures/deletion-receipt.v1.avsc', import.meta.url), 'utf8');
    const a = await r.register(subject, previous);
    const b = await r.register(subject, localSchema('receipt').text);
    expect(b).not.toBe(a);
    // The rule is enforced (else this test could not fail): a field without default is refused.
    const broken = JSON.parse(localSchema('receipt').text) as { fields: object[] };
    broken.fields.push({ name: 'mandatory', type: 'string' });
    await expect(r.register(subject, JSON.stringify(broken))).rejects.toThrow();
  });

  it('resolves a registered id and declares an unknown one unknown, each on its own', async () => {
    const id = await registerSchema(registryClient(), `${uniqueName('t-reg')}-value`, 'interaction-event');
    const r = new SchemaRegistryClient({ url: schemaRegistryUrl(), notFoundRetryDelaysMs: [50] });
    await prefetchSchemas([id, 987_654_321], r);
    expect(r.cached(id)).toMatchObject({ id, fullName: 'io.amnesia.v1.InteractionEvent' });
    expect(r.cached(987_654_321)).toBe('unknown');
  });

  it('looks up 3,000 distinct unknown ids without ever calling the registry unreachable', async () => {
    const r = new SchemaRegistryClient({ url: schemaRegistryUrl(), notFoundRetryDelaysMs: [100] });
    const ids = Array.from({ length: 3_000 }, (_, i) => 900_000_000 + i);
    await prefetchSchemas(ids, r);
    expect(ids.filter((id) => r.cached(id) !== 'unknown')).toEqual([]);
  });

  it('reports a registry nobody listens on as a retriable REGISTRY_UNAVAILABLE', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise((r) => server.close(r));
    const r = new SchemaRegistryClient({ url: `http://127.0.0.1:${port}` });
    await expect(prefetchSchemas([1, 2, 3], r)).rejects.toMatchObject({
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
    });
  });

  it('authenticates with the credentials of SCHEMA_REGISTRY_URL, and never shows the password', async () => {
    const secret = 'n0t-in-any:log@all';
    const hostPath = await authProxy('svc', secret);
    const id = await registerSchema(registryClient(), `${uniqueName('t-reg')}-value`, 'deletion-request');

    const config = loadConfig({
      SCHEMA_REGISTRY_URL: `http://svc:${encodeURIComponent(secret)}@${hostPath}`,
    });
    expect(JSON.stringify(config.registry?.url)).not.toContain('n0t');
    const ok = new SchemaRegistryClient(config.registry!);
    expect(await ok.schemaById(id)).toMatchObject({ fullName: 'io.amnesia.v1.DeletionRequest' });

    const wrong = loadConfig({
      SCHEMA_REGISTRY_URL: `http://svc:${encodeURIComponent('other')}@${hostPath}`,
    });
    const e = await new SchemaRegistryClient(wrong.registry!).schemaById(id).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(e).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', retriable: true });
    expect(`${e?.message} ${e?.stack}`).not.toMatch(/n0t|other/);
  });
});

// The schema registry client's lookups, against an injected fetch (no server): bounded
// concurrency, per-id outcomes, retried 404s, a bounded "unknown", unreachable = retriable error,
// basic auth from the URL, and no password in any message.
import { describe, expect, it, vi } from 'vitest';
import { prefetchSchemas } from '../../src/input/codec.js';
import { SchemaRegistryClient, type RegistryOptions } from '../../src/kafka/registry.js';
import { localSchema } from '../../src/kafka/schemas.js';

type Answer = { status: number; body?: unknown } | 'refuse' | 'hang';

/** A fetch that answers GET /schemas/ids/<id> through `answer`, counting calls and concurrency. */
function fakeFetch(answer: (id: number, attempt: number) => Answer) {
  const attempts = new Map<number, number>();
  const seen = { calls: 0, inFlight: 0, maxInFlight: 0, urls: [] as string[], auth: [] as (string | null)[] };
  const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : input.toString();
    seen.calls++;
    seen.urls.push(url);
    seen.auth.push(new Headers(init?.headers).get('authorization'));
    seen.inFlight++;
    seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 1));
      const id = Number(/\/schemas\/ids\/(\d+)$/.exec(url)?.[1]);
      const n = attempts.get(id) ?? 0;
      attempts.set(id, n + 1);
      const a = answer(id, n);
      if (a === 'refuse') throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
      if (a === 'hang') {
        return await new Promise<Response>((_, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error));
        });
      }
      return new Response(a.body === undefined ? '' : JSON.stringify(a.body), { status: a.status });
    } finally {
      seen.inFlight--;
    }
  };
  return { fetch: fn, seen, attempts };
}

const AVRO = { status: 200, body: { schema: localSchema('interaction').text } };
const NOT_FOUND = { status: 404, body: { error_code: 40403, message: 'Schema not found' } };

function client(f: { fetch: typeof fetch }, more: Partial<RegistryOptions> = {}): SchemaRegistryClient {
  return new SchemaRegistryClient({
    url: 'http://registry.test:8081',
    notFoundRetryDelaysMs: [1, 1, 1],
    ...more,
    fetch: f.fetch,
  });
}

describe('schema registry lookups', () => {
  it('looks 3,000 unknown ids up with at most 8 requests at once and declares them unknown', async () => {
    const f = fakeFetch(() => NOT_FOUND);
    const r = client(f);
    const ids = Array.from({ length: 3_000 }, (_, i) => 1_000 + i);
    await prefetchSchemas(ids, r);
    expect(f.seen.maxInFlight).toBeLessThanOrEqual(8);
    expect(f.seen.maxInFlight).toBeGreaterThan(1);
    expect(ids.every((id) => r.cached(id) === 'unknown')).toBe(true);
    expect(new Set(f.attempts.values())).toEqual(new Set([4])); // 1 + 3 retries each
  });

  it('resolves every id on its own: one unknown id fails none of the others', async () => {
    const f = fakeFetch((id) => (id === 2 ? NOT_FOUND : AVRO));
    const r = client(f);
    await prefetchSchemas([1, 2, 3, 1], r);
    expect(r.cached(1)).toMatchObject({ id: 1, fullName: 'io.amnesia.v1.InteractionEvent' });
    expect(r.cached(2)).toBe('unknown');
    expect(r.cached(3)).toMatchObject({ id: 3 });
    expect(f.attempts.get(1)).toBe(1);
  });

  it('asks again over a short while before calling an id unknown (a replica catching up)', async () => {
    const f = fakeFetch((_id, attempt) => (attempt < 2 ? NOT_FOUND : AVRO));
    const r = client(f, { notFoundRetryDelaysMs: [20, 40, 80] });
    const t0 = performance.now();
    expect(await r.schemaById(7)).toMatchObject({ id: 7 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55); // waited 20 + 40 ms
    expect(f.attempts.get(7)).toBe(3);
  });

  it('keeps an id unknown only for a bounded time, then asks again', async () => {
    let registered = false;
    const f = fakeFetch(() => (registered ? AVRO : NOT_FOUND));
    const r = client(f, { notFoundRetryDelaysMs: [], unknownTtlMs: 30_000 });
    const now = vi.spyOn(Date, 'now');
    try {
      now.mockReturnValue(1_000_000);
      expect(await r.schemaById(9)).toBeUndefined();
      registered = true;
      now.mockReturnValue(1_029_999);
      expect(r.cached(9)).toBe('unknown');
      expect(await r.schemaById(9)).toBeUndefined(); // still within the TTL: no request
      expect(f.seen.calls).toBe(1);
      now.mockReturnValue(1_030_000);
      expect(r.cached(9)).toBeUndefined();
      expect(await r.schemaById(9)).toMatchObject({ id: 9 });
    } finally {
      now.mockRestore();
    }
  });

  it.each<[string, Answer]>([
    ['a refused connection', 'refuse'],
    ['a 503', { status: 503, body: { error_code: 50301 } }],
    ['a 500 without a body', { status: 500 }],
    ['a 401 (bad credentials)', { status: 401, body: { error_code: 40101 } }],
    [
      'a 404 that is not the registry speaking (wrong URL path)',
      { status: 404, body: { title: 'Not Found' } },
    ],
    ['a 200 that is not a schema', { status: 200, body: '<html>' }],
  ])('reports %s as a retriable REGISTRY_UNAVAILABLE, leaving the ids undecided', async (_n, a) => {
    const f = fakeFetch(() => a);
    const r = client(f);
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    await expect(prefetchSchemas(ids, r)).rejects.toMatchObject({
      name: 'AmnesiaError',
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
    });
    expect(ids.some((id) => r.cached(id) !== undefined)).toBe(false);
    // Fails fast: no request is started once one has found the registry away.
    expect(f.seen.calls).toBeLessThanOrEqual(8);
  });

  it('reports a registry that does not answer in time as REGISTRY_UNAVAILABLE', async () => {
    const r = client(
      fakeFetch(() => 'hang'),
      { timeoutMs: 30 },
    );
    await expect(r.schemaById(1)).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE', retriable: true });
  });

  it('keeps what resolved before the registry went away, and resumes from there', async () => {
    let down = false;
    const f = fakeFetch((id) => (down ? 'refuse' : id === 5 ? NOT_FOUND : AVRO));
    const r = client(f, { maxConcurrent: 1, notFoundRetryDelaysMs: [] });
    await prefetchSchemas([4, 5], r);
    down = true;
    await expect(prefetchSchemas([4, 5, 6], r)).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE' });
    expect(r.cached(4)).toMatchObject({ id: 4 });
    expect(r.cached(5)).toBe('unknown');
    expect(f.attempts.get(4)).toBe(1); // 4 and 5 were not asked again
    down = false;
    await prefetchSchemas([4, 5, 6], r);
    expect(r.cached(6)).toMatchObject({ id: 6 });
  });

  it("keeps the consumer's heartbeat going through a long lookup, and lets its errors through", async () => {
    const f = fakeFetch(() => NOT_FOUND);
    const r = client(f, { notFoundRetryDelaysMs: [700, 700] });
    let beats = 0;
    await prefetchSchemas([1, 2], r, () => {
      beats++;
      return Promise.resolve();
    });
    expect(beats).toBeGreaterThanOrEqual(1);
    const rebalancing = new Error('The group is rebalancing');
    const r2 = client(
      fakeFetch(() => NOT_FOUND),
      { notFoundRetryDelaysMs: [1_100] },
    );
    await expect(prefetchSchemas([1], r2, () => Promise.reject(rebalancing))).rejects.toBe(rebalancing);
  });

  it('treats a non-Avro schema id as unknown at once', async () => {
    const f = fakeFetch(() => ({
      status: 200,
      body: { schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' },
    }));
    const r = client(f);
    expect(await r.schemaById(3)).toBeUndefined();
    expect(f.seen.calls).toBe(1);
  });
});

describe('registry credentials', () => {
  const SECRET = 'pa:ss@w/rd-7f3a';
  const urlWithSecret = `https://svc-user:${encodeURIComponent(SECRET)}@registry.test/apis/ccompat/v7/`;

  it('sets a compatibility rule another instance created a moment before (409 once), and fails on a lasting 409', async () => {
    const conflict = { status: 409, body: { message: "A rule named 'COMPATIBILITY' already exists." } };
    const f = fakeFetch((_id, attempt) => (attempt === 0 ? conflict : { status: 200, body: {} }));
    await client(f).setCompatibility('s-value', 'BACKWARD_TRANSITIVE');
    expect(f.seen.calls).toBe(2);
    const always = fakeFetch(() => conflict);
    await expect(client(always).setCompatibility('s-value', 'BACKWARD_TRANSITIVE')).rejects.toThrow(/409/);
  });

  it('uses user:pass@ in the URL as basic auth and never fetches a URL with credentials', async () => {
    const f = fakeFetch(() => AVRO);
    const r = new SchemaRegistryClient({ url: urlWithSecret, fetch: f.fetch });
    expect(r.url).toBe('https://registry.test/apis/ccompat/v7');
    await r.schemaById(1);
    expect(f.seen.urls).toEqual(['https://registry.test/apis/ccompat/v7/schemas/ids/1']);
    expect(f.seen.auth).toEqual([`Basic ${Buffer.from(`svc-user:${SECRET}`).toString('base64')}`]);
  });

  it.each<[string, Answer]>([
    ['unreachable', 'refuse'],
    ['failing', { status: 502, body: { message: 'bad gateway' } }],
    ['misrouted', { status: 404, body: {} }],
  ])('puts no password in the error when the registry is %s', async (_n, a) => {
    const r = new SchemaRegistryClient({
      url: urlWithSecret,
      fetch: fakeFetch(() => a).fetch,
      timeoutMs: 30,
    });
    const e = await r.schemaById(1).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(Error);
    let text = '';
    for (let c: unknown = e; c instanceof Error; c = c.cause) text += `${c.name} ${c.message} ${c.stack}\n`;
    text += JSON.stringify(e);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(encodeURIComponent(SECRET));
  });
});

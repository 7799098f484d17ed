// A small Confluent Schema Registry client: schema-by-id lookups (cached, bounded in concurrency,
// per id), subject registration and compatibility. It tells "the registry does not know this id"
// (a bad record: DLQ) from "the registry cannot be reached" (retry, never DLQ). No message it
// produces contains the URL's credentials or the password.
import avro from 'avsc';
import { splitUrlCredentials } from '../config.js';
import { AmnesiaError } from '../errors.js';

export interface RegistryOptions {
  /** May carry `user:pass@` (used as basic auth unless `username` is given). */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Per request (default 5 s). */
  readonly timeoutMs?: number;
  /** Requests in flight at once (default 8). */
  readonly maxConcurrent?: number;
  /**
   * Pauses between the attempts for an id the registry says it does not know (default 250, 500,
   * 1000 ms): a registry replica that has not caught up with a new schema answers 404 for a moment.
   */
  readonly notFoundRetryDelaysMs?: readonly number[];
  /** How long an id stays unknown before it is asked for again (default 30 s). */
  readonly unknownTtlMs?: number;
  /** The fetch to use (tests). */
  readonly fetch?: typeof fetch;
}

export interface WriterSchema {
  readonly id: number;
  /** Full record name of the writer schema (namespace.name), '' if not a named type. */
  readonly fullName: string;
  readonly type: avro.Type;
}

/** A registry response, read whole while holding a request slot (so the socket is free after it). */
interface Answer {
  readonly status: number;
  readonly ok: boolean;
  readonly text: string;
}

/** One lookup's outcome: the schema, or the registry's word that it has no such (usable) id. */
type Lookup = WriterSchema | 'not-found' | 'unusable';

/** Expired unknown-id entries are swept once the map holds this many (garbage ids must not pile up). */
const UNKNOWN_SWEEP_AT = 10_000;

const HEARTBEAT_EVERY_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SchemaRegistryClient {
  readonly url: string;
  private readonly known = new Map<number, WriterSchema>();
  private readonly unknown = new Map<number, number>();
  private readonly inflight = new Map<number, Promise<Lookup>>();
  private readonly headers: Record<string, string>;
  private readonly maxConcurrent: number;
  private readonly retryDelays: readonly number[];
  private readonly unknownTtlMs: number;
  private readonly fetch: typeof fetch;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: RegistryOptions) {
    const split = splitUrlCredentials(options.url);
    this.url = split.url;
    const username = options.username ?? split.username;
    const password = options.username !== undefined ? options.password : split.password;
    this.headers = { Accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    if (username !== undefined) {
      const token = Buffer.from(`${username}:${password ?? ''}`).toString('base64');
      this.headers.Authorization = `Basic ${token}`;
    }
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 8);
    this.retryDelays = options.notFoundRetryDelaysMs ?? [250, 500, 1_000];
    this.unknownTtlMs = options.unknownTtlMs ?? 30_000;
    this.fetch = options.fetch ?? fetch;
  }

  /** Synchronous cache probe: the schema, 'unknown' if recently not found, undefined if never asked. */
  cached(id: number): WriterSchema | 'unknown' | undefined {
    const s = this.known.get(id);
    if (s) return s;
    const until = this.unknown.get(id);
    if (until !== undefined && until > Date.now()) return 'unknown';
    return undefined;
  }

  /**
   * Resolves once every id is known or definitively unknown. An id the registry does not know is
   * asked for again after each of the retry delays before it counts as unknown; ids are looked up
   * in rounds, at most `maxConcurrent` requests at once. Rejects with REGISTRY_UNAVAILABLE
   * (retriable) as soon as one request finds the registry unreachable, failing, or not a registry;
   * what was resolved until then stays cached. Thousands of new ids take seconds: `heartbeat`
   * (a consumer's) is called about once a second meanwhile; its errors propagate as they are.
   */
  async prefetch(ids: Iterable<number>, heartbeat?: () => Promise<void>): Promise<void> {
    let pending = [...new Set(ids)].filter((id) => this.cached(id) === undefined);
    let last = Date.now();
    const beat = async () => {
      if (heartbeat && Date.now() - last >= HEARTBEAT_EVERY_MS) {
        last = Date.now();
        await heartbeat();
      }
    };
    for (let attempt = 0; pending.length > 0; attempt++) {
      const notFound = await this.lookupAll(pending, beat);
      const delay = this.retryDelays[attempt];
      if (delay === undefined) {
        for (const id of notFound) this.markUnknown(id);
        return;
      }
      if (notFound.length > 0) await sleep(delay);
      await beat();
      pending = notFound;
    }
  }

  /** The writer schema of an id, or undefined when the registry does not know it. Throws REGISTRY_UNAVAILABLE. */
  async schemaById(id: number): Promise<WriterSchema | undefined> {
    if (this.cached(id) === undefined) await this.prefetch([id]);
    const c = this.cached(id);
    return c === 'unknown' ? undefined : c;
  }

  /** Caches a known id → schema mapping (our own registrations; tests without a registry). */
  remember(id: number, type: avro.Type): WriterSchema {
    const ws: WriterSchema = { id, fullName: type.name ?? '', type };
    this.known.set(id, ws);
    this.unknown.delete(id);
    return ws;
  }

  /**
   * Sets the subject's compatibility level (PUT /config/<subject>). Instances starting together race
   * to create the rule: Apicurio answers the loser 409 ("rule already exists"), and a second PUT
   * then updates the rule the winner created.
   */
  async setCompatibility(subject: string, level: string): Promise<void> {
    const put = () => this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
    let res = await put();
    if (res.status === 409) res = await put();
    if (!res.ok) throw rejected(res, 'setting compatibility');
  }

  /** Registers (or finds) the schema under the subject and returns its id. */
  async register(subject: string, schemaText: string): Promise<number> {
    const res = await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema: schemaText,
    });
    if (!res.ok) throw rejected(res, 'registering a schema');
    const { id } = parseJson(res.text) as { id?: unknown };
    if (typeof id !== 'number') throw unavailable('schema registry answered a registration without an id');
    return id;
  }

  /** One round: looks every id up; returns those the registry does not know. Fails fast. */
  private async lookupAll(ids: readonly number[], beat: () => Promise<void>): Promise<number[]> {
    const notFound: number[] = [];
    let next = 0;
    let failure: AmnesiaError | undefined;
    const worker = async () => {
      while (failure === undefined && next < ids.length) {
        const id = ids[next++]!;
        try {
          const r = await this.lookup(id);
          if (r === 'not-found') notFound.push(id);
          else if (r === 'unusable') this.markUnknown(id);
        } catch (e) {
          failure ??= e instanceof AmnesiaError ? e : unavailable('schema lookup failed', e);
        }
        await beat();
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConcurrent, ids.length) }, worker));
    if (failure !== undefined) throw failure;
    return notFound;
  }

  private lookup(id: number): Promise<Lookup> {
    let p = this.inflight.get(id);
    if (!p) {
      p = this.fetchSchema(id).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  private async fetchSchema(id: number): Promise<Lookup> {
    const res = await this.request('GET', `/schemas/ids/${id}`);
    const body = parseJson(res.text) as { schema?: unknown; schemaType?: unknown; error_code?: unknown };
    if (res.status === 404) {
      // Only the registry's own "not found" (Confluent error code 404xx) means the id is unknown;
      // a bare 404 is a wrong SCHEMA_REGISTRY_URL (or a proxy) and must not dead-letter anything.
      if (typeof body.error_code === 'number' && Math.floor(body.error_code / 100) === 404)
        return 'not-found';
      throw unavailable(
        `schema registry answered 404 without a registry error code: is SCHEMA_REGISTRY_URL the API root?`,
      );
    }
    if (!res.ok || typeof body.schema !== 'string') {
      throw unavailable(
        `schema registry answered ${res.status} for a schema id${res.ok ? ' without a schema' : ''}`,
      );
    }
    // A Protobuf or JSON-schema id is as good as unknown to an Avro-only consumer.
    if (body.schemaType !== undefined && body.schemaType !== 'AVRO') return 'unusable';
    let type: avro.Type;
    try {
      type = avro.Type.forSchema(JSON.parse(body.schema) as avro.Schema);
    } catch {
      return 'unusable'; // something avsc cannot parse: no record of ours can use it
    }
    return this.remember(id, type);
  }

  private markUnknown(id: number): void {
    const now = Date.now();
    if (this.unknown.size >= UNKNOWN_SWEEP_AT) {
      for (const [k, until] of this.unknown) if (until <= now) this.unknown.delete(k);
    }
    this.unknown.set(id, now + this.unknownTtlMs);
  }

  private async request(method: string, path: string, body?: unknown): Promise<Answer> {
    while (this.active >= this.maxConcurrent) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      const res = await this.fetch(`${this.url}${path}`, {
        method,
        headers:
          body === undefined
            ? this.headers
            : { ...this.headers, 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
      return { status: res.status, ok: res.ok, text: await res.text() };
    } catch (e) {
      // The cause's own text (undici's) names the host and port at most, never credentials: they
      // are not in the URL we fetch.
      throw unavailable(
        (e as Error).name === 'TimeoutError' ? 'schema registry timed out' : 'schema registry unreachable',
        e,
      );
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function rejected(res: Answer, what: string): AmnesiaError {
  const retriable = res.status >= 500 || res.status === 429;
  return new AmnesiaError(
    retriable ? 'REGISTRY_UNAVAILABLE' : 'REGISTRY_REJECTED',
    `schema registry answered ${res.status} ${what}: ${res.text.slice(0, 300)}`,
    { retriable },
  );
}

function unavailable(message: string, cause?: unknown): AmnesiaError {
  return new AmnesiaError('REGISTRY_UNAVAILABLE', message, { retriable: true, ...(cause ? { cause } : {}) });
}

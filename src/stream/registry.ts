// A small Confluent Schema Registry client: schema-by-id lookups (cached, with in-flight
// de-duplication), subject registration and compatibility. It tells "the registry does not know
// this id" (a bad record: DLQ) from "the registry cannot be reached" (retry, never DLQ).
import avro from 'avsc';
import { AmnesiaError } from '../errors.js';

export interface RegistryOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly timeoutMs?: number;
}

export interface WriterSchema {
  readonly id: number;
  /** Full record name of the writer schema (namespace.name), '' if not a named type. */
  readonly fullName: string;
  readonly type: avro.Type;
}

/** How long an unknown id stays unknown before we ask again (a producer may register it later). */
const UNKNOWN_TTL_MS = 30_000;

export class SchemaRegistryClient {
  private readonly known = new Map<number, WriterSchema>();
  private readonly unknown = new Map<number, number>();
  private readonly inflight = new Map<number, Promise<WriterSchema | undefined>>();
  private readonly headers: Record<string, string>;

  constructor(private readonly options: RegistryOptions) {
    this.headers = { Accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    if (options.username !== undefined) {
      const token = Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64');
      this.headers.Authorization = `Basic ${token}`;
    }
  }

  get url(): string {
    return this.options.url;
  }

  /** Synchronous cache probe: the schema, 'unknown' if recently not found, undefined if never asked. */
  cached(id: number): WriterSchema | 'unknown' | undefined {
    const s = this.known.get(id);
    if (s) return s;
    const until = this.unknown.get(id);
    if (until !== undefined && until > Date.now()) return 'unknown';
    return undefined;
  }

  /** The writer schema of an id, or undefined when the registry does not know it. Throws REGISTRY_UNAVAILABLE. */
  async schemaById(id: number): Promise<WriterSchema | undefined> {
    const c = this.cached(id);
    if (c === 'unknown') return undefined;
    if (c) return c;
    let p = this.inflight.get(id);
    if (!p) {
      p = this.fetchSchema(id).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  private async fetchSchema(id: number): Promise<WriterSchema | undefined> {
    const res = await this.request('GET', `/schemas/ids/${id}`);
    if (res.status === 404) {
      this.unknown.set(id, Date.now() + UNKNOWN_TTL_MS);
      return undefined;
    }
    const body = (await res.json()) as { schema?: string; schemaType?: string };
    if (!res.ok || typeof body.schema !== 'string') {
      throw new AmnesiaError(
        'REGISTRY_UNAVAILABLE',
        `schema registry answered ${res.status} for a schema id`,
        { retriable: true },
      );
    }
    if (body.schemaType !== undefined && body.schemaType !== 'AVRO') {
      // A Protobuf or JSON-schema id: as good as unknown to an Avro-only consumer.
      this.unknown.set(id, Date.now() + UNKNOWN_TTL_MS);
      return undefined;
    }
    let type: avro.Type;
    try {
      type = avro.Type.forSchema(JSON.parse(body.schema) as avro.Schema);
    } catch {
      // The registry holds something avsc cannot parse: no record of ours can use it.
      this.unknown.set(id, Date.now() + UNKNOWN_TTL_MS);
      return undefined;
    }
    const ws: WriterSchema = { id, fullName: type.name ?? '', type };
    this.known.set(id, ws);
    this.unknown.delete(id);
    return ws;
  }

  /** Caches a known id → schema mapping (our own registrations; tests without a registry). */
  remember(id: number, type: avro.Type): WriterSchema {
    const ws: WriterSchema = { id, fullName: type.name ?? '', type };
    this.known.set(id, ws);
    this.unknown.delete(id);
    return ws;
  }

  /** Sets the subject's compatibility level (PUT /config/<subject>). */
  async setCompatibility(subject: string, level: string): Promise<void> {
    const res = await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
    if (!res.ok) throw await this.rejected(res, 'setting compatibility');
  }

  /** Registers (or finds) the schema under the subject and returns its id. */
  async register(subject: string, schemaText: string): Promise<number> {
    const res = await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema: schemaText,
    });
    if (!res.ok) throw await this.rejected(res, 'registering a schema');
    const { id } = (await res.json()) as { id: number };
    return id;
  }

  private async rejected(res: Response, what: string): Promise<AmnesiaError> {
    const text = await res.text().catch(() => '');
    const retriable = res.status >= 500;
    return new AmnesiaError(
      retriable ? 'REGISTRY_UNAVAILABLE' : 'REGISTRY_REJECTED',
      `schema registry answered ${res.status} ${what}: ${text.slice(0, 300)}`,
      {
        retriable,
      },
    );
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.options.url}${path}`, {
        method,
        headers:
          body === undefined
            ? this.headers
            : { ...this.headers, 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
    } catch (cause) {
      throw new AmnesiaError('REGISTRY_UNAVAILABLE', 'schema registry unreachable', {
        cause,
        retriable: true,
      });
    }
  }
}

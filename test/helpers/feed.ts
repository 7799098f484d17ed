// Input for the chaos tests: a seeded producer that keeps writing interaction events (and, when
// asked, deletion requests and late events of forgotten users) while the test breaks things, and
// that retries a send until it succeeds (a broker outage then duplicates some records, which the
// read-back sees). The oracle's input is what the topics hold, read back and decoded independently
// (`inputOnTopics`), not what the feeder meant to write.
//
// A forgotten user never gets an event that occurred after their request: only late ones, which the
// service must drop. So the surviving history does not depend on how the two topics interleave.
import type { Message } from 'kafkajs';
import { encodeValue } from '../../src/output/encode.js';
import { readToEnd } from '../../src/kafka/reader.js';
import { rng } from './generator.js';
import { decodeValue, registryClient } from './kafka.js';
import type { RefDeletion, RefEvent } from './oracle.js';
import type { Harness } from './service.js';

export interface FeedOptions {
  readonly seed: number;
  readonly users: number;
  readonly items: number;
  /** Events per second while running. */
  readonly rate: number;
  /** Share of events that remove one of the user's items (default 0: adds only). */
  readonly removeShare?: number;
  /** A deletion request every this many events (default: none). */
  readonly deletionEvery?: number;
  /** Avro needs the schema ids of the interaction and deletion subjects. */
  readonly format?: 'json' | 'avro' | 'mixed';
  readonly schemaIds?: { readonly interaction: number; readonly deletion: number };
}

export type Request = RefDeletion & { readonly requestId: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Feeder {
  private readonly r: () => number;
  private clock = Date.now() - 600_000;
  private readonly held = new Map<string, Set<string>>();
  private readonly forgotten = new Map<string, number>();
  private running: Promise<void> | undefined;
  private stopping = false;
  private k = 0;
  private encoder: ((e: RefEvent) => Buffer) | undefined;
  /** Records written (input records, both topics). */
  produced = 0;
  /** Failed sends that were retried. */
  retries = 0;
  readonly requests: Request[] = [];

  constructor(
    private readonly h: Harness,
    private readonly o: FeedOptions,
  ) {
    this.r = rng(o.seed);
  }

  /** Keeps producing at the rate until stop(). */
  start(): void {
    this.stopping = false;
    this.running ??= (async () => {
      const tick = 50;
      const perTick = Math.max(1, Math.round((this.o.rate * tick) / 1000));
      while (!this.stopping) {
        const t0 = Date.now();
        await this.burst(perTick);
        await sleep(Math.max(0, tick - (Date.now() - t0)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    this.running = undefined;
  }

  /** Produces n more events now (with the deletions due among them). */
  async burst(n: number): Promise<void> {
    const events: RefEvent[] = [];
    for (let i = 0; i < n; i++) {
      events.push(this.event());
      const every = this.o.deletionEvery;
      if (every !== undefined && ++this.k % every === 0) {
        if (events.length > 0)
          await this.send(this.h.topics.interactions, this.encodeEvents(events.splice(0)));
        await this.forgetOne();
      }
    }
    if (events.length > 0) await this.send(this.h.topics.interactions, this.encodeEvents(events));
  }

  /** A deletion request for a user with history (or an unknown one); returns its request id. */
  async forgetOne(): Promise<string> {
    const users = [...this.held.keys()];
    const userId =
      users.length > 0 ? users[Math.floor(this.r() * users.length)]! : `ghost-${this.requests.length}`;
    const d: Request = {
      requestId: `req-${this.o.seed}-${this.requests.length}`,
      userId,
      requestedAt: this.clock++,
    };
    this.held.delete(userId);
    this.forgotten.set(userId, d.requestedAt);
    this.requests.push(d);
    const ids = this.o.schemaIds;
    const value = encodeValue('deletion', d, this.avro(this.requests.length) ? ids?.deletion : undefined);
    await this.send(this.h.topics.deletions, [{ key: userId, value }]);
    return d.requestId;
  }

  /** From now on, interaction values are encoded by `encode` (another writer schema, say). */
  encodeWith(encode: ((e: RefEvent) => Buffer) | undefined): void {
    this.encoder = encode;
  }

  private avro(k: number): boolean {
    const f = this.o.format ?? 'json';
    return f === 'avro' || (f === 'mixed' && k % 2 === 1);
  }

  private encodeEvents(events: readonly RefEvent[]): Message[] {
    return events.map((e, i) => ({
      key: e.userId,
      value:
        this.encoder?.(e) ??
        encodeValue('interaction', e, this.avro(i) ? this.o.schemaIds?.interaction : undefined),
    }));
  }

  private event(): RefEvent {
    const { r, o } = this;
    // Now and then a late event of a forgotten user: it occurred before the request, so it is dropped.
    if (this.forgotten.size > 0 && r() < 0.02) {
      const [userId, at] = [...this.forgotten][Math.floor(r() * this.forgotten.size)]!;
      return {
        userId,
        itemId: `i${Math.floor(o.items * r())}`,
        action: 'ADD',
        occurredAt: at - 1 - Math.floor(r() * 100),
      };
    }
    let userId = `u${Math.floor(r() * o.users)}`;
    while (this.forgotten.has(userId)) userId = `${userId}x`;
    const mine = this.held.get(userId) ?? new Set<string>();
    this.held.set(userId, mine);
    const occurredAt = this.clock++;
    if (mine.size > 0 && r() < (o.removeShare ?? 0)) {
      const itemId = [...mine][Math.floor(r() * mine.size)]!;
      mine.delete(itemId);
      return { userId, itemId, action: 'REMOVE', occurredAt };
    }
    const itemId = `i${Math.floor(o.items * r() ** 2)}`;
    mine.add(itemId);
    return { userId, itemId, action: 'ADD', occurredAt };
  }

  private async send(topic: string, messages: Message[]): Promise<void> {
    for (;;) {
      try {
        await this.h.produce(topic, messages);
        this.produced += messages.length;
        return;
      } catch {
        this.retries++;
        await sleep(200);
      }
    }
  }
}

export interface TopicInput {
  /** Interaction events in each partition's order (so in each user's order). */
  readonly events: RefEvent[];
  readonly requests: Request[];
  /** Records that are not a well-formed event or request (the test says how many it wrote). */
  readonly invalid: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Both input topics read back and decoded without the service's codecs. */
export async function inputOnTopics(h: Harness): Promise<TopicInput> {
  const registry = registryClient(h.config().registry?.url);
  const events: RefEvent[] = [];
  const requests: Request[] = [];
  let invalid = 0;
  const decode = async (value: Buffer | null): Promise<Record<string, unknown> | undefined> => {
    if (value === null) return undefined;
    try {
      const v = await decodeValue(registry, value);
      return isObj(v) ? v : undefined;
    } catch {
      return undefined;
    }
  };
  await readToEnd(h.kafka, h.topics.interactions, async (m) => {
    const v = await decode(m.value);
    const action = v?.action;
    if (
      v &&
      typeof v.userId === 'string' &&
      typeof v.itemId === 'string' &&
      (action === 'ADD' || action === 'REMOVE')
    )
      events.push({
        userId: v.userId,
        itemId: v.itemId,
        action,
        occurredAt: Number(v.occurredAt ?? m.timestamp),
      });
    else invalid++;
  });
  await readToEnd(h.kafka, h.topics.deletions, async (m) => {
    const v = await decode(m.value);
    if (v && typeof v.userId === 'string' && typeof v.requestId === 'string')
      requests.push({
        requestId: v.requestId,
        userId: v.userId,
        requestedAt: Number(v.requestedAt ?? m.timestamp),
      });
    else invalid++;
  });
  return { events, requests, invalid };
}

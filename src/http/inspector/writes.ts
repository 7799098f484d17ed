// The inspector's write controls (INSPECTOR_WRITES): POST routes whose bodies are validated here,
// then PRODUCED to the service's input topics exactly like any other producer would (JSON
// encoding, key = user id). Nothing is applied to the model directly: what the page shows is what
// the service made of the events. Without INSPECTOR_WRITES the routes answer 403 WRITES_DISABLED.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Message, Producer } from 'kafkajs';
import { z } from 'zod';
import { describeError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { encodeValue } from '../../output/encode.js';
import { MAX_ID_LENGTH } from '../params.js';
import { HttpError, sendJson } from '../respond.js';
import type { RouteSpec } from '../router.js';

/** Bodies are tiny; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Items of one "add a user" request. */
export const MAX_USER_ITEMS = 1_000;

const id = z.string().min(1).max(MAX_ID_LENGTH);
export const interactionBody = z.strictObject({
  userId: id,
  itemId: id,
  action: z.enum(['ADD', 'REMOVE']),
});
export const userBody = z.strictObject({
  userId: id,
  items: z.array(id).min(1).max(MAX_USER_ITEMS),
});
export const forgetBody = z.strictObject({ userId: id });

/** Reads a JSON body. Requiring application/json makes cross-site form posts need a CORS preflight (which fails). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError('BODY_TOO_LARGE', `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError('INVALID_BODY', 'body is not valid JSON');
  }
}

/** Validates with a zod schema; the error names the first bad field (never echoes its value). */
export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'body';
  throw new HttpError('INVALID_BODY', `${where}: ${issue?.message ?? 'invalid'}`);
}

export interface Topics {
  readonly interactions: string;
  readonly deletions: string;
}

export type Interaction = { userId: string; itemId: string; action: 'ADD' | 'REMOVE' };

/** What the write routes produce through; `InspectorWriter` is the Kafka one. */
export interface Writer {
  interactions(events: readonly Interaction[]): Promise<{ events: number }>;
  forget(userId: string): Promise<{ requestId: string }>;
}

/** Produces what the controls ask for. Timestamps are "now" so a re-added forgotten user is not late. */
export class InspectorWriter implements Writer {
  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly topics: Topics,
  ) {}

  async interactions(events: readonly Interaction[]): Promise<{ events: number }> {
    const occurredAt = Date.now();
    const messages: Message[] = events.map((e) => ({
      key: e.userId,
      value: encodeValue('interaction', { ...e, occurredAt, eventId: `inspector-${randomUUID()}` }),
    }));
    await (await this.producer()).send({ topic: this.topics.interactions, acks: -1, messages });
    return { events: messages.length };
  }

  async forget(userId: string): Promise<{ requestId: string }> {
    const requestId = `inspector-${randomUUID()}`;
    const value = encodeValue('deletion', { requestId, userId, requestedAt: Date.now() });
    const producer = await this.producer();
    await producer.send({ topic: this.topics.deletions, acks: -1, messages: [{ key: userId, value }] });
    return { requestId };
  }
}

const WRITES: Record<string, (w: Writer, body: unknown) => Promise<Record<string, unknown>>> = {
  '/inspector/interactions': (w, body) => w.interactions([validate(interactionBody, body)]),
  '/inspector/users': (w, body) => {
    const u = validate(userBody, body);
    return w.interactions(
      [...new Set(u.items)].map((itemId) => ({ userId: u.userId, itemId, action: 'ADD' })),
    );
  },
  '/inspector/forget': (w, body) => w.forget(validate(forgetBody, body).userId),
};

/** POST /inspector/{interactions,users,forget}: 202 `{ accepted, … }` once Kafka acknowledged; 403 without a writer. */
export function writeRoutes(deps: {
  readonly writer: Writer | undefined;
  readonly log: Logger;
}): RouteSpec[] {
  return Object.entries(WRITES).map(([template, write]) => ({
    template,
    methods: ['POST'],
    personal: 'write',
    handle: async ({ req, res }) => {
      const { writer } = deps;
      if (!writer)
        throw new HttpError(
          'WRITES_DISABLED',
          'writes are disabled (set INSPECTOR_WRITES=true to enable them)',
        );
      const body = await readJson(req);
      let result: Record<string, unknown>;
      try {
        result = await write(writer, body);
      } catch (e) {
        if (e instanceof HttpError) throw e;
        deps.log.error({ err: describeError(e), route: template }, 'inspector produce failed');
        throw new HttpError('KAFKA_UNAVAILABLE', 'could not produce to Kafka');
      }
      deps.log.info({ route: template, ...result }, 'inspector produced input');
      sendJson(res, 202, { accepted: true, ...result });
    },
  }));
}

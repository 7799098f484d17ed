// The inspector's write controls: request bodies validated here, then PRODUCED to the service's
// input topics exactly like any other producer would (JSON encoding, key = user id). Nothing is
// applied to the model directly: what the page shows is what the service made of the events.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Message, Producer } from 'kafkajs';
import { z } from 'zod';
import { encodeValue } from '../../stream/codec.js';

/** Bodies are tiny; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Items of one "add a user" request. */
export const MAX_USER_ITEMS = 1_000;

const id = z.string().min(1).max(256);
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

/** A request the inspector refuses; rendered as the API's `{ error: { code, message } }`. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly code = 'INVALID_BODY',
  ) {
    super(message);
  }
}

/** Reads a JSON body. Requiring application/json makes cross-site form posts need a CORS preflight (which fails). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    throw new BadRequest('content-type must be application/json', 415, 'UNSUPPORTED_MEDIA_TYPE');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new BadRequest(`body larger than ${MAX_BODY_BYTES} bytes`, 413, 'BODY_TOO_LARGE');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('body is not valid JSON');
  }
}

/** Validates with a zod schema; the error names the first bad field (never echoes its value). */
export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'body';
  throw new BadRequest(`${where}: ${issue?.message ?? 'invalid'}`);
}

export interface Topics {
  readonly interactions: string;
  readonly deletions: string;
}

/** Produces what the controls ask for. Timestamps are "now" so a re-added forgotten user is not late. */
export class InspectorWriter {
  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly topics: Topics,
  ) {}

  async interactions(
    events: readonly { userId: string; itemId: string; action: 'ADD' | 'REMOVE' }[],
  ): Promise<{ events: number }> {
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
    await (
      await this.producer()
    ).send({
      topic: this.topics.deletions,
      acks: -1,
      messages: [{ key: userId, value }],
    });
    return { requestId };
  }
}

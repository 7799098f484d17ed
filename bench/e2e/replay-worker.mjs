// Load generator of the MovieLens end-to-end benchmark (bench/e2e/movielens.ts): replays a data set's
// events into the interactions topic at a fixed rate (or as fast as it can), in its own thread so
// that generating and producing does not compete with the parent's event loop. Plain ESM: workers
// get no TypeScript loader.
//
// workerData: brokers, topic, partitions, rate (events/s, 0 = as fast as possible), events
// { users, items, times (typed arrays, produce order), userNames, itemNames }, schemaId/schemaText
// (Avro; JSON without), userPrefix, loop (repeat with a new user prefix per pass until 'stop'),
// track (report each event's partition, offset and send time), acks.
// Each user goes to partition (user index mod partitions), so that the offset of every event is
// known from the produce responses (baseOffset per partition, messages in order).
import { parentPort, workerData } from 'node:worker_threads';
import kafkajs from 'kafkajs';
import avro from 'avsc';

const { brokers, topic, partitions, rate, events, schemaId, schemaText, userPrefix, loop, track, acks } =
  workerData;
const MAX_BATCH = 2_000;
const IN_FLIGHT = rate > 0 ? 1 : 4;
const type = schemaText ? avro.Type.forSchema(JSON.parse(schemaText)) : undefined;
const kafka = new kafkajs.Kafka({
  clientId: 'bench-replay',
  brokers,
  logLevel: kafkajs.logLevel.NOTHING,
});
const producer = kafka.producer({ allowAutoTopicCreation: false });
const now = () => performance.timeOrigin + performance.now();
const n = events.users.length;

function encode(userId, itemId, occurredAt) {
  const e = { userId, itemId, action: 'ADD', occurredAt };
  if (!type) return Buffer.from(JSON.stringify(e));
  const body = type.toBuffer({ ...e, eventId: null });
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, 5);
  return out;
}

let running = true;
parentPort.on('message', (m) => {
  if (m === 'stop') running = false;
});

const total = loop ? Infinity : n;
const sentAt = track ? new Float64Array(n) : undefined;
const partitionOf = track ? new Int32Array(n) : undefined;
const offsetOf = track ? new Float64Array(n) : undefined;
let pass = 0;
let next = 0; // index of the next event to send, over all passes

/** The messages of events [from, to), in produce order. */
function messagesOf(from, to) {
  const messages = [];
  for (let k = from; k < to; k++) {
    const e = k % n;
    if (e === 0 && k > 0) pass++;
    const u = events.users[e];
    const userId = `${userPrefix}${loop ? `${pass}-` : ''}${events.userNames[u]}`;
    messages.push({
      key: userId,
      value: encode(userId, events.itemNames[events.items[e]], events.times[e]),
      partition: u % partitions,
    });
  }
  return messages;
}

async function send(from, to) {
  const messages = messagesOf(from, to);
  const at = now();
  const meta = await producer.send({ topic, messages, acks });
  if (!track) return;
  const base = new Map(meta.map((m) => [m.partition, Number(m.baseOffset)]));
  const seen = new Map();
  for (let k = from; k < to; k++) {
    const p = messages[k - from].partition;
    const i = seen.get(p) ?? 0;
    seen.set(p, i + 1);
    sentAt[k] = at;
    partitionOf[k] = p;
    offsetOf[k] = base.get(p) + i;
  }
}

await producer.connect();
parentPort.postMessage({ type: 'connected' });
const start = now();
const pending = new Set();
while (running && next < total) {
  const due = rate > 0 ? Math.min(total, Math.floor(((now() - start) / 1000) * rate)) : total;
  if (due > next) {
    const to = Math.min(due, next + MAX_BATCH);
    const p = send(next, to);
    next = to;
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    if (pending.size >= IN_FLIGHT) await Promise.race(pending);
  } else await new Promise((r) => setTimeout(r, 2));
}
await Promise.all(pending);
const end = now();
await producer.disconnect();
parentPort.postMessage(
  { type: 'done', sent: next, start, end, sentAt, partitionOf, offsetOf },
  track ? [sentAt.buffer, partitionOf.buffer, offsetOf.buffer] : [],
);

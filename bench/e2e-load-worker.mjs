// Background load for bench/e2e.ts, in its own thread so that generating and producing events does
// not compete with the service for the main event loop. Plain ESM: workers need no TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import kafkajs from 'kafkajs';
import avro from 'avsc';

const { brokers, topic, rate, users, items, schemaId, schemaText } = workerData;
const type = schemaText ? avro.Type.forSchema(JSON.parse(schemaText)) : undefined;
const kafka = new kafkajs.Kafka({ clientId: 'bench-load', brokers, logLevel: kafkajs.logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: false });

let a = 7;
const rnd = () => {
  a = (a + 0x6d2b79f5) >>> 0;
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

function encode(e) {
  if (!type) return Buffer.from(JSON.stringify(e));
  const body = type.toBuffer({ ...e, occurredAt: null, eventId: null });
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(schemaId, 1);
  body.copy(out, 5);
  return out;
}

let running = true;
parentPort.on('message', (m) => {
  if (m === 'stop') running = false;
});

await producer.connect();
const start = performance.now();
let sent = 0;
while (running) {
  const due = Math.floor(((performance.now() - start) / 1000) * rate) - sent;
  if (due > 0) {
    const messages = [];
    for (let k = 0; k < due; k++) {
      const userId = `bg${Math.floor(users * rnd())}`;
      messages.push({
        key: userId,
        value: encode({ userId, itemId: `i${Math.floor(items * rnd() ** 2)}`, action: 'ADD' }),
      });
    }
    sent += due;
    await producer.send({ topic, messages, acks: 1 });
  }
  await new Promise((r) => setTimeout(r, 5));
}
await producer.disconnect();
parentPort.postMessage({ sent, seconds: (performance.now() - start) / 1000 });

// The feeder of bench/partitioned.ts, in a child process of its own so that the bench's process
// holds the service alone while the CPU is measured: it produces the dataset's events to a run's
// input topic, then polls the groups' committed offsets until both stages (or the single mode's
// group) cover their inputs. Messages (IPC): parent → {run}, {stop}; child → {ready}, {done}.
import type { Admin } from 'kafkajs';
import { loadConfig } from '../src/config.js';
import { createKafka } from '../src/kafka/client.js';
import { createLogger } from '../src/log.js';
import type { RefEvent } from '../test/helpers/oracle.js';
import { readCsv } from './datasets.js';

/** A run's topics and group, as the feeder needs them. */
export interface FeedRun {
  readonly groupId: string;
  readonly interactions: string;
  readonly single: boolean;
}

export type FeedRequest = { readonly run: FeedRun } | { readonly stop: true };
export type FeedReply = { readonly ready: true } | { readonly done: true; readonly cpuSeconds: number };

/** The dataset's ratings as ADD events, in file order. */
export function csvEvents(file: string): RefEvent[] {
  const data = readCsv(file);
  const events: RefEvent[] = [];
  for (let k = 0; k < data.users.length; k++)
    events.push({
      userId: data.userNames[data.users[k]!]!,
      itemId: data.itemNames[data.items[k]!]!,
      action: 'ADD',
      occurredAt: data.times[k]!,
    });
  return events;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Both stages have committed everything: inputs to their ends, deltas to theirs (markers aside). */
async function processed(admin: Admin, r: FeedRun): Promise<boolean> {
  const checks: [string, string][] = r.single
    ? [[r.groupId, r.interactions]]
    : [
        [`${r.groupId}-users`, r.interactions],
        [`${r.groupId}-items`, `${r.groupId}-deltas`],
      ];
  for (const [group, topic] of checks) {
    const ends = await admin.fetchTopicOffsets(topic);
    const [c] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    for (const e of ends) {
      const at = Number(c?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1);
      if (Number(e.high) > 0 && at < Number(e.high) - 2) return false;
    }
  }
  return true;
}

async function feed(file: string): Promise<void> {
  const send = (m: FeedReply) => process.send!(m);
  const events = csvEvents(file);
  const kafka = createKafka(loadConfig(process.env).kafka, createLogger('silent'));
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  process.on('message', (m: FeedRequest) => {
    if ('stop' in m) {
      void Promise.all([producer.disconnect(), admin.disconnect()]).then(() => process.exit(0));
      return;
    }
    void (async () => {
      const cpu0 = process.cpuUsage();
      for (let k = 0; k < events.length; k += 5_000)
        await producer.send({
          topic: m.run.interactions,
          acks: -1,
          messages: events.slice(k, k + 5_000).map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
        });
      let streak = 0;
      while (streak < 3) {
        streak = (await processed(admin, m.run)) ? streak + 1 : 0;
        await sleep(500);
      }
      const cpu = process.cpuUsage(cpu0);
      send({ done: true, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
    })();
  });
  send({ ready: true });
}

if (process.send && process.env.AMNESIA_BENCH_FEED) void feed(process.env.AMNESIA_BENCH_FEED);

// `npm run demo`: the whole story on one machine. Kafka + registry (from the environment, else the
// local stack), the service in-process with the live inspector, the seed example streamed in, the
// neighbour lists printed, Marge forgotten (receipt printed, changed lists and Homer's
// recommendations before and after shown), then the inspector stays up until Ctrl-C, which stops
// everything the demo started.
import { randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import { loadConfig, type Config } from '../config.js';
import { AmnesiaError, ConfigError, describeError } from '../errors.js';
import { createLogger } from '../log.js';
import type { NeighborList, Recommendation } from '../model/index.js';
import { recommendationsAround } from '../http/routes/forgets.js';
import { modelOf, type Service } from '../service.js';
import { startApp, type App } from '../app.js';
import { encodeValue } from '../output/encode.js';
import { createKafka } from '../kafka/client.js';
import { detectFormat, parseLine, type CsvFormat } from './csv.js';
import { forget } from './forget.js';
import { Progress } from './progress.js';

/** The running example (Schelter, "Amnesia", CIDR 2020): four users over items 0..4. */
export const SEED_USERS = ['Homer', 'Marge', 'Bart', 'Lisa'] as const;
export const SEED_ITEMS = ['0', '1', '2', '3', '4'] as const;
export const SEED_INTERACTIONS: readonly (readonly [number, number])[] = [
  [0, 0], [0, 1], [0, 2], [0, 4], [1, 1], [1, 2], [2, 0], [2, 1], [2, 3], [3, 1], [3, 3],
]; // prettier-ignore
export const SEED_FORGOTTEN = 'Marge';
/** The remaining user whose recommendations the demo shows before and after the forget. */
export const SEED_SHOWN = 'Homer';

/** The seed as [userId, itemId] pairs. */
export function seedPairs(): [string, string][] {
  return SEED_INTERACTIONS.map(([u, i]) => [SEED_USERS[u]!, SEED_ITEMS[i]!]);
}

const USAGE = `usage: npm run demo -- [--port 8080] [--host 127.0.0.1] [--dataset file.csv] [--exit-after-forget]

  --dataset FILE        also stream a MovieLens ratings file or a userId,itemId[,timestamp] CSV
                        (its ids are prefixed u… / i… so they never meet the seed's)
  --exit-after-forget   stop everything and exit once the receipt is printed (for tests)

environment: KAFKA_BROKERS and SCHEMA_REGISTRY_URL (else the local stack is started), KAFKA_GROUP_ID
(default amnesia-demo), topic names and the other service variables; LOG_LEVEL (default fatal: set info to see the service's logs on stderr).`;

const out = (line = '') => process.stdout.write(`${line}\n`);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      dataset: { type: 'string' },
      'exit-after-forget': { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new AmnesiaError('USAGE', `--port must be 0..65535\n\n${USAGE}`);
  return {
    port,
    host: values.host,
    dataset: values.dataset,
    exitAfterForget: values['exit-after-forget'] || values['no-wait'],
    help: values.help,
  };
}

/** Waits until the service's group has committed the end of both input topics. */
async function waitProcessed(admin: Admin, config: Config, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let behind = false;
    for (const topic of [config.topics.interactions, config.topics.deletions]) {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topic] });
      for (const e of ends) {
        const c = committed?.partitions.find((p) => p.partition === e.partition);
        if (Number(e.high) > 0 && Number(c?.offset ?? -1) < Number(e.high)) behind = true;
      }
    }
    if (!behind) return;
    if (Date.now() > deadline) throw new Error(`the service did not catch up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function interaction(userId: string, itemId: string, occurredAt: number): Message {
  return { key: userId, value: encodeValue('interaction', { userId, itemId, action: 'ADD', occurredAt }) };
}

/** Streams a CSV data set with prefixed ids (so MovieLens movie 1 is not the seed's item 1). */
async function streamDataset(producer: Producer, config: Config, file: string): Promise<number> {
  const size = statSync(file).size;
  const input = createReadStream(file);
  const progress = new Progress(`   streaming ${file}`);
  let format: CsvFormat | undefined;
  let batch: Message[] = [];
  let events = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await producer.send({ topic: config.topics.interactions, acks: -1, messages: batch });
    events += batch.length;
    batch = [];
    progress.update(events, input.bytesRead / Math.max(1, size));
  };
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (!format) {
      format = detectFormat(line);
      if (format.hasHeader) continue;
    }
    const row = parseLine(line, format);
    if (!row) continue;
    batch.push(interaction(`u${row.userId}`, `i${row.itemId}`, row.occurredAt ?? Date.now()));
    if (batch.length >= 5_000) await flush();
  }
  await flush();
  progress.done(events);
  return events;
}

function formatList(list: NeighborList | undefined): string {
  if (!list || list.neighbors.length === 0) return '(no neighbours)';
  return list.neighbors
    .slice(0, 6)
    .map((n) => `${n.itemId} ${n.similarity.toFixed(2)}`)
    .join('   ');
}

function printLists(
  service: Service,
  items: readonly string[],
  before?: Map<string, string>,
): Map<string, string> {
  const now = new Map<string, string>();
  const measure = modelOf(service).options.similarity === 'cosine' ? 'cosine' : 'Jaccard';
  out(`   ${'item'.padEnd(6)}${'n'.padEnd(4)}neighbours (${measure} similarity)`);
  for (const item of items) {
    const list = modelOf(service).neighbors(item);
    const text = formatList(list);
    const line = `${(list?.interactions ?? 0).toString().padEnd(4)}${text}`;
    now.set(item, line);
    if (before && before.get(item) === line) continue;
    out(
      `   ${item.padEnd(6)}${line}${before ? `   (was: ${before.get(item)?.replace(/^\S+\s+/, '') ?? '-'})` : ''}`,
    );
  }
  return now;
}

/** What the forget changed for a remaining user: their recommendations with the lists before and after. */
function printEffect(service: Service, requestId: string): void {
  const effect = service.forgetEffects?.get(requestId);
  if (!effect) return;
  const recs = recommendationsAround(modelOf(service), effect, SEED_SHOWN, 5);
  const text = (r: readonly Recommendation[]) =>
    r.length === 0 ? '(none)' : r.map((x) => `${x.itemId} ${x.score.toFixed(2)}`).join('   ');
  out(`   what it changed for ${SEED_SHOWN} (his items scored by the lists before and after the forget):`);
  out(`   recommendations before: ${text(recs.before)}`);
  out(`   recommendations after:  ${text(recs.after)}`);
}

/** Waits (bounded) until the inspector's receipts panel holds the request's receipt. */
async function inspectorShows(app: App, requestId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (app.inspector && !app.inspector.receipts().some((r) => r.requestId === requestId)) {
    if (Date.now() > deadline) {
      out('   (the inspector has not read the receipt yet: it shows it as soon as it does)');
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function demo(argv: string[]): Promise<number> {
  const args = parseCli(argv);
  if (args.help) {
    out(USAGE);
    return 0;
  }
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  };

  try {
    out(bold('amnesia demo: exact item similarities, and exact forgetting'));
    let brokers = process.env.KAFKA_BROKERS?.trim() || undefined;
    let registryUrl = process.env.SCHEMA_REGISTRY_URL?.trim() || undefined;
    let stackNote = 'from KAFKA_BROKERS';
    if (!brokers) {
      out('   no KAFKA_BROKERS set: starting the local Kafka + schema registry (first run fetches jars)…');
      const { startStack } = await import('../../scripts/stack.mjs');
      const stack = await startStack({ quiet: true });
      if (stack.startedHere) cleanups.push(() => stack.stop());
      brokers = stack.kafkaBrokers;
      registryUrl = stack.schemaRegistryUrl;
      stackNote = stack.startedHere ? 'local stack, started by the demo' : 'local stack, already running';
    }

    const config = loadConfig({
      ...process.env,
      KAFKA_BROKERS: brokers,
      ...(registryUrl ? { SCHEMA_REGISTRY_URL: registryUrl } : {}),
      KAFKA_GROUP_ID: process.env.KAFKA_GROUP_ID || 'amnesia-demo',
      HTTP_HOST: args.host,
      HTTP_PORT: String(args.port),
      // The demo is the inspector's home: on, with its write controls (off by default elsewhere);
      // the inspector needs the whole model, so the single mode whatever MODE the shell has.
      MODE: 'single',
      INSPECTOR_ENABLED: 'true',
      INSPECTOR_WRITES: 'true',
      LOG_LEVEL: process.env.LOG_LEVEL || 'fatal',
    });
    const log = createLogger(config.logLevel, process.stderr);
    out(`   Kafka            ${config.kafka.brokers.join(',')} (${stackNote})`);
    out(`   Schema Registry  ${config.registry?.url ?? '(none: JSON only)'}`);

    let app: App;
    try {
      app = await startApp(config, { log });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new AmnesiaError('USAGE', `port ${config.http.port} is in use: pick another with --port`);
      throw e;
    }
    cleanups.push(() => app.stop());
    const { service, http } = app;
    await service.waitUntilReady(180_000);
    out(`   service          ready (group ${config.kafka.groupId}, outputs as ${config.outputFormat})`);

    const kafka: Kafka = createKafka(config.kafka, log, '-demo');
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    cleanups.push(() => producer.disconnect());

    // 1. The seed, with current timestamps: a re-run re-adds a Marge forgotten by an earlier run.
    out();
    out(bold(`1. The seed example: ${SEED_USERS.length} users, ${SEED_ITEMS.length} items`));
    const pairs = seedPairs();
    for (const u of SEED_USERS)
      out(
        `   ${u.padEnd(7)}${pairs
          .filter(([pu]) => pu === u)
          .map(([, i]) => i)
          .join(' ')}`,
      );
    const now = Date.now();
    await producer.send({
      topic: config.topics.interactions,
      acks: -1,
      messages: pairs.map(([u, i]) => interaction(u, i, now)),
    });
    out(
      `   produced ${pairs.length} interaction events to "${config.topics.interactions}" (JSON, key = user id)`,
    );
    if (args.dataset) {
      out(`   and the data set ${args.dataset}:`);
      const n = await streamDataset(producer, config, args.dataset);
      out(`   produced ${n.toLocaleString('en')} more events`);
    }
    await waitProcessed(admin, config);
    const s = modelOf(service).stats();
    out(`   the service applied them: ${s.users} users, ${s.items} items, ${s.pairs} co-occurring pairs`);

    out();
    out(bold('2. Item neighbours, as published to the similarities topic'));
    const before = printLists(service, SEED_ITEMS);

    // 2. Forget Marge through the deletion-requests topic; the receipt comes back on its topic.
    out();
    out(bold(`3. Forgetting ${SEED_FORGOTTEN}: a deletion request to "${config.topics.deletions}"`));
    const receipt = await forget(kafka, config, {
      userId: SEED_FORGOTTEN,
      requestId: `demo-${randomUUID()}`,
      format: 'json',
      timeoutMs: 60_000,
    });
    out(`   receipt: ${JSON.stringify(receipt)}`);
    out(`   ${String(receipt.status)} — the user is gone from memory and from every published list.`);
    await waitProcessed(admin, config);
    out('   neighbour lists that changed:');
    printLists(service, SEED_ITEMS, before);
    out(`   ${SEED_FORGOTTEN}'s items now: [${modelOf(service).items(SEED_FORGOTTEN).join(', ')}]`);
    printEffect(service, String(receipt.requestId));
    // The page is opened next: its receipts panel must already hold the receipt just printed (on a
    // new stack the inspector's reader joins the receipts topic only seconds after it was created).
    await inspectorShows(app, String(receipt.requestId));

    out();
    out(bold(`Inspector: ${http.url}/#recs=${SEED_SHOWN}`));
    // A data set makes the catalogue large (a subset is shown): link the seed's view too.
    if (args.dataset)
      out(`   the seed alone: ${http.url}/#items=${SEED_ITEMS.join(',')}&users=${SEED_USERS.join(',')}`);
    if (args.exitAfterForget) {
      out('stopping (--exit-after-forget)…');
      await cleanup();
      out('stopped.');
      return 0;
    }
    out('   open it, add users and interactions, forget someone. Ctrl-C stops everything the demo started.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    out('\nstopping…');
    await cleanup();
    out('stopped.');
    return 0;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  demo(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof ConfigError) process.stderr.write(`demo: invalid configuration: ${e.message}\n`);
      else if (e instanceof AmnesiaError && e.code === 'USAGE') process.stderr.write(`${e.message}\n`);
      else process.stderr.write(`demo: ${describeError(e)}\n`);
      process.exit(1);
    },
  );
}

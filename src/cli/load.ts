// `amnesia load <file.csv>`: bulk-produces interaction events, batched and optionally rate-limited.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Message, Producer } from 'kafkajs';
import type { Config } from '../config.js';
import { encodeValue } from '../output/encode.js';
import { SchemaRegistryClient } from '../kafka/registry.js';
import { localSchema } from '../kafka/schemas.js';
import { detectFormat, parseLine, type CsvFormat } from './csv.js';
import { Progress } from './progress.js';

export interface LoadOptions {
  readonly file: string;
  readonly topic: string;
  readonly format: 'json' | 'avro';
  /** Events per second, 0 = as fast as possible. */
  readonly rate: number;
  readonly batchSize: number;
  /** Produce requests in flight at once. */
  readonly inFlight: number;
}

export interface LoadResult {
  readonly events: number;
  readonly skipped: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly layout: CsvFormat['layout'];
}

export async function interactionSchemaId(config: Config, topic: string): Promise<number> {
  if (!config.registry) throw new Error('--format avro needs SCHEMA_REGISTRY_URL');
  const registry = new SchemaRegistryClient(config.registry);
  return registry.register(`${topic}-value`, localSchema('interaction').text);
}

export async function load(producer: Producer, config: Config, o: LoadOptions): Promise<LoadResult> {
  const schemaId = o.format === 'avro' ? await interactionSchemaId(config, o.topic) : undefined;
  const size = statSync(o.file).size;
  const stream = createReadStream(o.file);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  const progress = new Progress(`loading ${o.topic}`);
  const started = performance.now();
  let format: CsvFormat | undefined;
  let batch: Message[] = [];
  let events = 0;
  let skipped = 0;
  const inflight = new Set<Promise<unknown>>();

  const flush = async () => {
    if (batch.length === 0) return;
    const messages = batch;
    batch = [];
    const p = producer.send({ topic: o.topic, messages, acks: -1 });
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    if (inflight.size >= o.inFlight) await Promise.race(inflight);
    events += messages.length;
    if (o.rate > 0) {
      const ahead = (events / o.rate) * 1000 - (performance.now() - started);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
    progress.update(events, stream.bytesRead / Math.max(1, size));
  };

  for await (const line of lines) {
    if (!format) {
      format = detectFormat(line);
      if (format.hasHeader) continue;
    }
    const row = parseLine(line, format);
    if (!row) {
      if (line.trim() !== '') skipped++;
      continue;
    }
    const value = encodeValue('interaction', { ...row, action: 'ADD' }, schemaId);
    batch.push({ key: row.userId, value });
    if (batch.length >= o.batchSize) await flush();
  }
  await flush();
  await Promise.all(inflight);
  const { seconds, rate } = progress.done(events);
  return { events, skipped, seconds, eventsPerSecond: Math.round(rate), layout: format?.layout ?? 'generic' };
}

// The Apache Kafka Java client as an independent producer/consumer for interop tests: runs
// test/helpers/KafkaCodecClient.java with the kafka-clients jars of the local stack's cache
// (scripts/stack.mjs fetches them; .ci/run does so before the tests).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchKafka } from '../../scripts/stack.mjs';

const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'KafkaCodecClient.java');

export type JavaCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface RawRecord {
  readonly key: Buffer | null;
  readonly value: Buffer;
  /** javaProduce: only to the target-th (codec, topic) pair instead of every one. */
  readonly target?: number;
}

function run(args: readonly string[], stdin = '', timeoutMs = 90_000): Promise<string> {
  const classpath = path.join(fetchKafka({ quiet: true }), 'libs', '*');
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-cp', classpath, SOURCE, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else {
        const tail = Buffer.concat(err).toString('utf8').split('\n').slice(-30).join('\n');
        reject(new Error(`java KafkaCodecClient ${args[0]} exited ${code ?? signal}:\n${tail}`));
      }
    });
    child.stdin.end(stdin);
  });
}

/**
 * Produces every record to every topic (or to its `target` pair only), each topic with its codec
 * (one Java producer per pair, in order).
 */
export async function javaProduce(
  brokers: string,
  codecTopics: readonly (readonly [JavaCodec, string])[],
  records: readonly RawRecord[],
): Promise<void> {
  const lines = records.map(
    (r) =>
      `${r.key?.toString('base64') ?? ''}\t${r.value.toString('base64')}${r.target === undefined ? '' : `\t${r.target}`}\n`,
  );
  await run(['produce', brokers, ...codecTopics.map(([c, t]) => `${c}=${t}`)], lines.join(''));
}

/** The first n records of each topic (all partitions, from the beginning), read by the Java consumer. */
export async function javaConsume(
  brokers: string,
  topics: readonly string[],
  n: number,
  timeoutMs = 30_000,
): Promise<Map<string, RawRecord[]>> {
  const out = await run(['consume', brokers, String(n), String(timeoutMs), ...topics]);
  const byTopic = new Map<string, RawRecord[]>(topics.map((t) => [t, []]));
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [topic = '', key = '', value = ''] = line.split('\t');
    byTopic
      .get(topic)
      ?.push({ key: key === '' ? null : Buffer.from(key, 'base64'), value: Buffer.from(value, 'base64') });
  }
  return byTopic;
}

/** Bytes each topic occupies in the broker's log directories (all partitions). */
export async function javaTopicSizes(
  brokers: string,
  topics: readonly string[],
): Promise<Map<string, number>> {
  const out = await run(['sizes', brokers, ...topics]);
  const sizes = new Map<string, number>();
  for (const line of out.split('\n')) {
    const [topic, bytes] = line.split('\t');
    if (topic && bytes) sizes.set(topic, Number(bytes));
  }
  return sizes;
}

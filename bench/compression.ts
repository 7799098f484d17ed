// `npx tsx bench/compression.ts [--json] [--repeats 9]`: size and CPU of each OUTPUT_COMPRESSION
// codec on what the service really produces: the top-20 neighbour lists of MovieLens
// ml-latest-small (bench/data/), JSON and Avro, laid out as kafkajs lays out a record batch, in
// batches of the sizes a flush produces. Runs the exact codec functions the producer runs (kafkajs's
// gzip, our snappy/lz4/zstd). One JSON object per line with --json, else a table.
import { createRequire } from 'node:module';
import kafkajs, { CompressionTypes } from 'kafkajs';
import { Model } from '../src/model/index.js';
import { encodeValue } from '../src/output/encode.js';
import { CODECS } from '../src/kafka/compression.js';
import { readCsv } from './datasets.js';

const json = process.argv.includes('--json');
const repeatsArg = process.argv.indexOf('--repeats');
const REPEATS = repeatsArg > 0 ? Number(process.argv[repeatsArg + 1]) : 9;
const require = createRequire(import.meta.url);
// kafkajs's record encoder: the bytes a codec receives are exactly these, concatenated.
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: {
  offsetDelta: number;
  key: Buffer;
  value: Buffer;
}) => { buffer: Buffer };

interface Codec {
  compress(e: { buffer: Buffer }): Promise<Buffer>;
  decompress(b: Buffer): Promise<Buffer>;
}
const codecs: Record<string, Codec> = {
  gzip: (kafkajs.CompressionCodecs[CompressionTypes.GZIP] as () => Codec)(),
  ...CODECS,
};

const data = readCsv('bench/data/ml-latest-small/ratings.csv');
const model = new Model({ topK: 20 });
for (let e = 0; e < data.users.length; e++) {
  model.interaction({
    userId: data.userNames[data.users[e]!]!,
    itemId: data.itemNames[data.items[e]!]!,
    action: 'ADD',
    occurredAt: data.times[e]!,
  });
}
const lists = model.flush(Date.now()).changed;

function batch(format: 'json' | 'avro', start: number, n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const list = lists[(start + i) % lists.length]!;
    const value = encodeValue('neighbors', list, format === 'avro' ? 1 : undefined);
    parts.push(Record({ offsetDelta: i, key: Buffer.from(list.itemId), value }).buffer);
  }
  return Buffer.concat(parts);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// A full flush of this data set spread over 3 partitions, the ~2,000-list flush of the e2e
// benchmark over 3 partitions, a deletion touching a few items, one list.
const SIZES = [Math.ceil(lists.length / 3), 670, 10, 1];
const rows: Record<string, unknown>[] = [];
for (const format of ['json', 'avro'] as const) {
  for (const n of SIZES) {
    // Different slices per repeat, so that no codec sees the same bytes twice in a row.
    const inputs = Array.from({ length: REPEATS }, (_, r) => batch(format, r * 997, n));
    const raw = median(inputs.map((b) => b.length));
    for (const [name, codec] of Object.entries(codecs)) {
      const sizes: number[] = [];
      const cpuC: number[] = [];
      const cpuD: number[] = [];
      await codec.compress({ buffer: inputs[0]! }); // warm-up
      for (const input of inputs) {
        let t = process.cpuUsage();
        const out = await codec.compress({ buffer: input });
        let d = process.cpuUsage(t);
        cpuC.push((d.user + d.system) / input.length); // µs per byte
        sizes.push(out.length / input.length);
        t = process.cpuUsage();
        const back = await codec.decompress(out);
        d = process.cpuUsage(t);
        cpuD.push((d.user + d.system) / input.length);
        if (!back.equals(input)) throw new Error(`${name} did not round-trip`);
      }
      rows.push({
        bench: 'compression',
        format,
        lists: n,
        rawBytes: raw,
        codec: name,
        ratio: +median(sizes).toFixed(3),
        compressCpuMsPerMB: +(median(cpuC) * 1e3).toFixed(2),
        decompressCpuMsPerMB: +(median(cpuD) * 1e3).toFixed(2),
      });
    }
  }
}
if (json) for (const r of rows) console.log(JSON.stringify(r));
else console.table(rows.map(({ bench: _b, ...r }) => r));

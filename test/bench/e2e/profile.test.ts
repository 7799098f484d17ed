// Where a profile's time goes: each sample is charged with the time until the next one, to the
// category of its stack (the outermost model frame decides apply / flush; kafkajs by request kind).
import { describe, expect, it } from 'vitest';
import { categorize, layerCost, summarizeProfile, type CpuProfile } from '../../../bench/e2e/profile.js';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
const SRC = 'file:///repo/src';
const KJS = 'file:///repo/node_modules/kafkajs/src';

describe('categorize', () => {
  it('charges model work by the outermost model frame', () => {
    const stack = [
      frame('ensureCapacity', `${SRC}/model/cooccurrence.ts`),
      frame('interaction', `${SRC}/model/model.ts`),
      frame('interaction', `${SRC}/input/intake.ts`),
      frame('flush', `${SRC}/single/live.ts`),
    ];
    expect(categorize(stack)).toBe('model.apply');
    expect(
      categorize([frame('rescan', `${SRC}/model/topk.ts`), frame('flush', `${SRC}/model/model.ts`)]),
    ).toBe('model.flush');
  });

  it('tells decoding, encoding, compression and kafkajs requests apart', () => {
    expect(
      categorize([
        frame('fromBuffer', 'file:///x/node_modules/avsc/lib/types.js'),
        frame('decode', `${SRC}/input/codec.ts`),
      ]),
    ).toBe('decode');
    expect(categorize([frame('toBuffer', 'avsc'), frame('list', `${SRC}/output/outbox.ts`)])).toBe('encode');
    expect(
      categorize([
        frame('compress', 'node_modules/@toondepauw/node-zstd/index.js'),
        frame('send', `${KJS}/producer/sendMessages.js`),
      ]),
    ).toBe('compression');
    expect(categorize([frame('decode', `${KJS}/protocol/requests/fetch/v11/response.js`)])).toBe(
      'kafka.consume',
    );
    expect(categorize([frame('encode', `${KJS}/protocol/requests/produce/v7/request.js`)])).toBe(
      'kafka.produce',
    );
    expect(categorize([frame('commit', `${KJS}/producer/eosManager/index.js`)])).toBe('kafka.transaction');
    expect(categorize([frame('(garbage collector)')])).toBe('gc');
    expect(categorize([frame('(idle)')])).toBe('idle');
    expect(categorize([frame('onBatch', `${SRC}/single/live.ts`)])).toBe('engine');
  });
});

describe('summarizeProfile', () => {
  it('sums the time until the next sample per category and lists the heaviest functions', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 5] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('flush', `${SRC}/model/model.ts`), children: [4] },
        { id: 4, callFrame: frame('rescan', `${SRC}/model/topk.ts`) },
        { id: 5, callFrame: frame('(garbage collector)') },
      ],
      startTime: 0,
      endTime: 10_000,
      // samples at 1, 3, 6, 7, 10 ms: rescan 3 ms + flush 1 ms, idle 2 ms, gc 3 ms, last sample 0
      samples: [2, 4, 3, 5, 2],
      timeDeltas: [1000, 2000, 3000, 1000, 3000],
    };
    const s = summarizeProfile(profile);
    expect(s.byCategory).toEqual({ 'model.flush': 4, gc: 3, idle: 2 });
    expect(s.top[0]).toMatchObject({ fn: 'rescan', category: 'model.flush', ms: 3 });
    expect(s.windows['model.flush']).toEqual([3, 7]);
    expect(s.spanMs).toBe(10);
  });
});

describe('layerCost', () => {
  it('is the busy time outside the model over the time in it, idle left out, with and without GC', () => {
    const s = {
      spanMs: 0,
      windows: {},
      top: [],
      byCategory: {
        'model.flush': 600,
        'model.apply': 200,
        gc: 100,
        'kafka.consume': 100,
        idle: 500,
        program: 5,
      },
    };
    expect(layerCost(s)).toEqual({ cost: 0.25, costWithoutGc: 0.125, modelMs: 800 });
  });
});

describe('layerCost with a profile of the model alone', () => {
  it('charges the model its own rate of GC and the layer the rest', () => {
    const base = { spanMs: 0, windows: {}, top: [] };
    const alone = { ...base, byCategory: { 'model.flush': 1000, gc: 100 } }; // 0.1 ms GC per model ms
    const service = { ...base, byCategory: { 'model.flush': 800, gc: 200, decode: 120 } };
    // model 800 + its GC 80 = 880; layer: decode 120 + GC 120 = 240
    expect(layerCost(service, alone).costModelGcApart).toBeCloseTo(240 / 880, 3);
  });
});

// The raw probe the model's ingest is weighed against (issue 22: "ingest with exact top-20 / raw
// probe"): the least a co-occurrence recommender can do per chunk — increment C for every new pair
// (one Int32Array square, no tiles, no overflow, no memory budget), count n, and at each flush one
// pass over the row of every item whose n changed, keeping its K best Jaccard values by insertion.
// Not exact (rows whose neighbours' n changed are not revisited) and no change report: a floor, not
// a rival. Dense only: refuses catalogues whose square would pass 2 GiB.
import type { EventStream } from './datasets.js';

export function rawProbeSeconds(s: EventStream, flushEvery: number, topK: number): number {
  const items = s.itemNames.length;
  if (items * items * 4 > 2 ** 31) throw new Error(`raw probe: ${items} items do not fit a dense square`);
  const t0 = performance.now();
  const C = new Int32Array(items * items);
  const n = new Int32Array(items);
  const hist: number[][] = Array.from({ length: s.userNames.length }, () => []);
  const seen = new Set<number>();
  const changed = new Uint8Array(items);
  const changedList: number[] = [];
  const topV = new Float64Array(topK);
  const topI = new Int32Array(topK);
  let sink = 0;
  const flush = (): void => {
    for (const i of changedList) {
      changed[i] = 0;
      let m = 0;
      const ni = n[i] as number;
      const base = i * items;
      for (let j = 0; j < items; j++) {
        const c = C[base + j] as number;
        if (c === 0) continue;
        const v = c / (ni + (n[j] as number) - c);
        if (m === topK && v <= (topV[topK - 1] as number)) continue;
        let p = m < topK ? m++ : topK - 1;
        while (p > 0 && (topV[p - 1] as number) < v) {
          topV[p] = topV[p - 1] as number;
          topI[p] = topI[p - 1] as number;
          p--;
        }
        topV[p] = v;
        topI[p] = j;
      }
      sink += m;
    }
    changedList.length = 0;
  };
  for (let e = 0; e < s.users.length; e++) {
    const u = s.users[e] as number;
    const i = s.items[e] as number;
    const key = u * items + i;
    if (seen.has(key)) continue;
    seen.add(key);
    const h = hist[u] as number[];
    for (const j of h) {
      C[i * items + j] = (C[i * items + j] as number) + 1;
      C[j * items + i] = (C[j * items + i] as number) + 1;
    }
    h.push(i);
    n[i] = (n[i] as number) + 1;
    if (changed[i] === 0) {
      changed[i] = 1;
      changedList.push(i);
    }
    if ((e + 1) % flushEvery === 0) flush();
  }
  flush();
  if (sink < 0) throw new Error('unreachable');
  return (performance.now() - t0) / 1000;
}

// The snapshot's `time` section (INTERACTION_TTL_MS): the expiry cutoff reached and every
// interaction's time, in the USER section's order. Optional (lower case): a build without the TTL
// skips it; a build with the TTL on restores only a snapshot that has it (single/model-factory.ts).
//
//   time  f64 cutoff (−Infinity: none yet); u32 users; per user: u32 h, h × f64 times (epoch ms)
//         of that user's history in arrival order
import type { ModelState } from '../model/index.js';
import { SnapshotError, type Reader, type Sink } from './model-state.js';

export function* timeSection(w: Sink, st: ModelState): Generator<void, void, void> {
  const times = st.times ?? [];
  w.f64(st.expiredBefore ?? -Infinity);
  w.u32(times.length);
  for (let k = 0; k < times.length; k++) {
    const t = times[k] as Float64Array;
    w.u32(t.length);
    w.typed(t);
    if ((k & 1023) === 1023) yield;
  }
}

export function readTimes(
  r: Reader,
  histories: readonly Int32Array[],
): Pick<ModelState, 'times' | 'expiredBefore'> {
  const expiredBefore = r.f64();
  const users = r.u32();
  if (users !== histories.length) throw new SnapshotError('section time: not one entry per user');
  const times = new Array<Float64Array>(users);
  for (let k = 0; k < users; k++) {
    times[k] = r.typed(Float64Array, r.u32());
    if (times[k]!.length !== histories[k]!.length)
      throw new SnapshotError(`section time: user ${k} has another number of interactions`);
  }
  return { times, expiredBefore };
}

import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { MemoryGuard, RESUME_FRACTION } from '../../src/partitioned/memory-guard.js';

function guarded(budget: number) {
  const state = { bytes: 0, reads: 0, gauge: -1 };
  const pauses: boolean[] = [];
  const guard = new MemoryGuard({
    budgetBytes: budget,
    stateBytes: () => {
      state.reads++;
      return state.bytes;
    },
    pauseInputs: (p) => pauses.push(p),
    gauge: { set: (v: number) => void (state.gauge = v) },
    log: createLogger('silent'),
  });
  return { guard, state, pauses };
}

describe('the memory guard of the partitioned mode', () => {
  it('pauses past the budget, stays paused down to the resume line, and says why meanwhile', () => {
    const { guard, state, pauses } = guarded(100e6);
    state.bytes = 100e6;
    guard.check();
    expect([pauses, state.gauge, guard.reason()]).toEqual([[], 0, undefined]);
    state.bytes = 100e6 + 1;
    guard.check();
    guard.check();
    expect([pauses, state.gauge]).toEqual([[true], 1]);
    expect(guard.reason()).toBe(
      'memory: state of the partitions held 100 MB past MODEL_MEMORY_BYTES 100 MB; inputs paused until it falls under 90 MB (add instances, or raise the budget and restart)',
    );
    state.bytes = 100e6 * RESUME_FRACTION; // not under the line yet
    guard.check();
    expect(pauses).toEqual([true]);
    state.bytes -= 1;
    guard.check();
    expect([pauses, state.gauge, guard.reason()]).toEqual([[true, false], 0, undefined]);
  });

  it('admits batches while under the budget, and none once past it, reading the state each time', () => {
    const { guard, state, pauses } = guarded(1_000);
    state.bytes = 10;
    expect([guard.admit(), state.reads]).toEqual([true, 1]);
    state.bytes = 1_001;
    expect([guard.admit(), state.reads, pauses]).toEqual([false, 2, [true]]);
    expect(guard.admit()).toBe(false);
    state.bytes = 10;
    expect([guard.admit(), pauses]).toEqual([true, [true, false]]);
  });
});

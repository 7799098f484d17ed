import { describe, expect, it } from 'vitest';
import { cgroupMemoryLimit, defaultModelMemoryBytes } from '../src/memory-limit.js';

const files = (contents: Record<string, string>) => (f: string) => {
  const v = contents[f];
  if (v === undefined) throw new Error('ENOENT');
  return v;
};

describe('the memory the process may use', () => {
  it('reads cgroup v2 and v1 limits, and knows "no limit"', () => {
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': '1610612736\n' }))).toBe(1_610_612_736);
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': 'max\n' }))).toBeUndefined();
    expect(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '536870912' }))).toBe(
      536_870_912,
    );
    expect(
      cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' })),
    ).toBeUndefined();
    expect(cgroupMemoryLimit(files({}))).toBeUndefined();
  });

  it('gives the model a share of it by default', () => {
    const b = defaultModelMemoryBytes();
    expect(b).toBeGreaterThan(0);
    expect(b).toBeLessThan(Math.min(cgroupMemoryLimit() ?? Infinity, 2 ** 50));
  });
});

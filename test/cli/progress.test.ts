// The progress `amnesia load` and `amnesia verify` print on stderr: a bar redrawn in place on a
// terminal, a plain line otherwise, each with the percentage and the time left; and how verify
// counts how far it has read topics whose offsets have gaps (compaction).
import { describe, expect, it } from 'vitest';
import { formatSeconds, Progress } from '../../src/cli/progress.js';
import { ReadProgress } from '../../src/cli/verify.js';

const collector = (isTTY: boolean) => {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (t: string) => out.push(t) } };
};

describe('progress on stderr', () => {
  it('a log line with the percentage and the time left when stderr is not a terminal', async () => {
    const { out, stream } = collector(false);
    const p = new Progress('verify: reading', 'records', stream);
    await new Promise((r) => setTimeout(r, 20));
    p.update(250, 0.25, true);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^verify: reading {2}25\.0% 250 records, [\d,]+ records\/s, ETA \d+s\n$/);
    p.done(1_000);
    expect(out[1]).toMatch(/^verify: reading 100\.0% 1,000 records, [\d,]+ records\/s\n$/); // no ETA at the end
  });

  it('a bar redrawn in place on a terminal', () => {
    const { out, stream } = collector(true);
    const p = new Progress('loading', 'events', stream);
    p.update(10, 0.5, true);
    expect(out[0]).toMatch(/^\rloading \[#{15}\.{15}\] {2}50\.0% 10 events, [\d,]+ events\/s, ETA \d+s/);
    expect(out[0]!.endsWith('\u001b[K')).toBe(true); // the rest of the line cleared
    p.done(20);
    expect(out.at(-1)).toBe('\n');
  });

  it('times left read as seconds, minutes or hours', () => {
    expect(formatSeconds(42)).toBe('42s');
    expect(formatSeconds(75)).toBe('1m15s');
    expect(formatSeconds(3_725)).toBe('1h02m');
  });

  it('verify counts the offsets reached, so a compacted topic reaches 100 %', () => {
    const { out, stream } = collector(false);
    const r = new ReadProgress(new Progress('verify: reading', 'records', stream));
    r.add('sim', [{ partition: 0, low: '0', high: '100' }]); // compacted: only offsets 49 and 99 left
    r.add('in', [
      { partition: 0, low: '10', high: '60' },
      { partition: 1, low: '0', high: '0' },
    ]);
    const shares: number[] = [];
    const bar = (r as unknown as { bar: Progress }).bar;
    const update = bar.update.bind(bar);
    bar.update = (done, fraction) => {
      shares.push(fraction!);
      update(done, fraction, true);
    };
    r.read('sim', 0, 49);
    r.read('sim', 0, 99);
    r.read('in', 0, 34);
    r.read('in', 0, 59);
    expect(shares).toEqual([50 / 150, 100 / 150, 125 / 150, 1]);
    expect(out.at(-1)).toMatch(/100\.0% 4 records/);
  });
});

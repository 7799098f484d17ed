// Reading a Prometheus text exposition in tests: sample values by name and label subset.

export async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

function parseLabels(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const m of s.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** Sum of the samples of `name` whose labels include `labels` (0 when there are none). */
export function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const l = parseLabels(m[2]);
    if (Object.entries(labels).every(([k, v]) => l[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Metric family names declared by `# TYPE` lines, and names that have samples. */
export function exportedNames(text: string): { declared: Set<string>; sampled: Set<string> } {
  const declared = new Set<string>();
  const sampled = new Set<string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) /.exec(line);
    if (t) declared.add(t[1]!);
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (s && !line.startsWith('#')) sampled.add(s[1]!);
  }
  return { declared, sampled };
}

/** Scrapes until `ok(text)` holds, returning that scrape; throws after timeoutMs. */
export async function scrapeUntil(
  baseUrl: string,
  ok: (text: string) => boolean,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape(baseUrl);
    if (ok(text)) return text;
    if (Date.now() > deadline) throw new Error(`metrics condition not met after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// deploy/k8s-partitioned rendered as kustomize would: the base's objects, its StatefulSet deleted,
// the ConfigMap patched (shared by the manifest tests and the Dockerfile replay).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BASE = path.join(ROOT, 'deploy/k8s');
const DIR = path.join(ROOT, 'deploy/k8s-partitioned');
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
const docsOf = (dir: string, files: string[]): any[] =>
  files.flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJSON()));

export function render(): any[] {
  const k = parse(readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8')) as {
    resources: string[];
    patches: ({ path: string } | { patch: string })[];
  };
  const base = parse(readFileSync(path.join(BASE, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  let docs: any[] = [];
  for (const r of k.resources)
    docs.push(...(r === '../k8s' ? docsOf(BASE, base.resources) : docsOf(DIR, [r])));
  for (const p of k.patches) {
    const patch: any = 'path' in p ? parse(readFileSync(path.join(DIR, p.path), 'utf8')) : parse(p.patch);
    const target = (d: any) => d.kind === patch.kind && d.metadata.name === patch.metadata.name;
    if (patch.$patch === 'delete') docs = docs.filter((d) => !target(d));
    else
      for (const d of docs.filter(target))
        for (const [key, v] of Object.entries(patch.data as Record<string, unknown>))
          if (v === null) delete d.data[key];
          else d.data[key] = v;
  }
  return docs;
}

/** The ConfigMap of the rendered overlay: the container's environment. */
export const partitionedEnv = (): Record<string, string> =>
  render().find((d) => d.kind === 'ConfigMap').data as Record<string, string>;

// kubectl (when installed) renders deploy/k8s with kustomize: the manifests are a valid kustomization.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy/k8s');
const kubectl = spawnSync('sh', ['-c', 'command -v kubectl']).status === 0;

describe('deploy/k8s', () => {
  it.skipIf(!kubectl)('kubectl kustomize renders the directory', () => {
    const r = spawnSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('kind: StatefulSet');
  });
});

describe('deploy/k8s-partitioned', () => {
  it.skipIf(!kubectl)('kubectl kustomize renders the overlay: a Deployment, no StatefulSet', () => {
    const r = spawnSync('kubectl', ['kustomize', path.join(DIR, '..', 'k8s-partitioned')], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('kind: Deployment');
    expect(r.stdout).not.toContain('kind: StatefulSet');
    expect(r.stdout).toContain('MODE: partitioned');
  });
});

#!/usr/bin/env node
// Writes deploy/k8s/prometheusrule.yaml (Prometheus Operator) from deploy/prometheus/alerts.yml, the
// single source of the alert rules. Run after editing alerts.yml: `node scripts/prometheusrule.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rules = parse(readFileSync(path.join(root, 'deploy/prometheus/alerts.yml'), 'utf8'));
const doc = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'amnesia', labels: { 'app.kubernetes.io/name': 'amnesia' } },
  spec: { groups: rules.groups },
};
const header =
  '# Prometheus Operator copy of deploy/prometheus/alerts.yml (spec.groups must stay identical:\n' +
  '# test/deploy/k8s.test.ts compares them). Edit alerts.yml, then run `node scripts/prometheusrule.mjs`.\n';
writeFileSync(path.join(root, 'deploy/k8s/prometheusrule.yaml'), header + stringify(doc, { lineWidth: 0 }));

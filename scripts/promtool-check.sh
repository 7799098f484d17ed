#!/usr/bin/env bash
# Validates the monitoring config with the real Prometheus tooling: the scrape config (which also
# loads its rule_files), the alert rules, and the alert rules' unit tests.
# Needs promtool (Debian/Ubuntu: `apt-get install -y prometheus`; or a Prometheus release tarball).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: install it with 'apt-get install -y prometheus' (Debian/Ubuntu)" >&2
  exit 2
fi

promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts.test.yml

// Architecture rules for src/ (npm run lint runs them; docs/architecture.md explains the floors).
// Floors, lowest first — a module may import its own floor or lower ones, never a higher one:
//   0 base       src/model/, src/telemetry/, src/authority.ts, src/errors.ts, src/log.ts, src/memory-limit.ts
//   1 settings   src/config*.ts (config-types, config-schema, config), src/state/
//   2 kafka      src/kafka/      (clients, ports, sinks, retry, topics, registry, positions)
//   3 output     src/output/     (outbox, encoding, dead letters, publishing, purge progress)
//   4 input      src/input/      (decoding, validation, dedup, intake: the shared apply core)
//   5 surface    src/service.ts  (the Service interface both runtimes implement)
//   6 runtimes   src/single/, src/partitioned/ (never each other), src/http/
//   7 root       src/app.ts      (the mode switch)
//   8 entry      src/main.ts, src/cli/
const floors = [
  '^src/(model/|telemetry/|authority\\.ts$|errors\\.ts$|log\\.ts$|memory-limit\\.ts$)',
  '^src/(config\\.ts$|config-schema\\.ts$|config-types\\.ts$|state/)',
  '^src/kafka/',
  '^src/output/',
  '^src/input/',
  '^src/service\\.ts$',
  '^src/(single|partitioned|http)/',
  '^src/app\\.ts$',
  '^src/(main\\.ts$|cli/)',
];
const upward = floors.slice(0, -1).map((from, i) => ({
  name: `no-upward-from-floor-${i}`,
  comment: `floor ${i} (${from}) must not import a higher floor`,
  severity: 'error',
  from: { path: from },
  to: { path: floors.slice(i + 1) },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
    {
      name: 'runtimes-apart',
      comment: 'the single and the partitioned runtime share the core; neither imports the other',
      severity: 'error',
      from: { path: '^src/(single|partitioned)/' },
      to: { path: '^src/(single|partitioned)/', pathNot: '^src/$1/' },
    },
    {
      name: 'model-internals',
      comment: 'outside src/model/, the model is used through src/model/index.ts only',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/model/' },
      to: { path: '^src/model/', pathNot: '^src/model/index\\.ts$' },
    },
    {
      name: 'http-no-runtime',
      comment: 'the HTTP layer reads a Service through callbacks; it knows no runtime',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/(single|partitioned)/' },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: '^src/',
  },
};

#!/usr/bin/env node
// Local Kafka + Schema Registry without Docker: owns fetching the pinned jars through Maven into a
// git-ignored cache, starting a single-node KRaft broker and Apicurio Registry (Confluent-compatible
// API) as detached JVMs bound to 127.0.0.1, waiting until both answer, and stopping exactly the
// processes it started. CLI: `node scripts/stack.mjs up|down|status|fetch`. Also imported by the
// vitest global setup and by tests that crash and restart a stack of their own (signalStackProcess,
// restartStackProcess); see scripts/stack.d.mts for the typed API.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Versions verified to run here. Apicurio 3.3.x is compiled for Java 21, 3.0.x still runs on 17. */
export const VERSIONS = Object.freeze({
  kafka: '4.1.2',
  scala: '2.13',
  log4j: '2.25.3',
  apicurio: '3.3.3',
  apicurioJava17: '3.0.9',
});

const STATE_FILE = 'stack.json';
const ENV_FILE = 'env';

/** Defaults and env overrides, resolved once per call so tests can set env before starting. */
export function resolveDirs(opts = {}) {
  const cacheDir = path.resolve(
    opts.cacheDir ?? process.env.AMNESIA_CACHE_DIR ?? path.join(REPO_ROOT, '.cache'),
  );
  const stackDir = path.resolve(
    opts.stackDir ?? process.env.AMNESIA_STACK_DIR ?? path.join(REPO_ROOT, '.stack'),
  );
  return { cacheDir, stackDir };
}

function log(opts, msg) {
  if (!opts.quiet) process.stderr.write(`[stack] ${msg}\n`);
}

// ---------------------------------------------------------------- java

function javaMajor(javaBin) {
  const r = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 0;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr);
  if (!m) return 0;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

/** Every java binary we can see, newest first: explicit env, JAVA_HOME, PATH, /usr/lib/jvm. */
function javaCandidates() {
  const list = [];
  for (const home of [process.env.AMNESIA_JAVA_HOME, process.env.JAVA_HOME]) {
    if (home) list.push(path.join(home, 'bin', 'java'));
  }
  list.push('java');
  try {
    for (const d of fs.readdirSync('/usr/lib/jvm')) list.push(path.join('/usr/lib/jvm', d, 'bin', 'java'));
  } catch {
    /* no /usr/lib/jvm */
  }
  const seen = new Set();
  const found = [];
  for (const bin of list) {
    if (seen.has(bin)) continue;
    seen.add(bin);
    if (bin !== 'java' && !fs.existsSync(bin)) continue;
    const major = javaMajor(bin);
    if (major > 0) found.push({ bin, major });
  }
  return found;
}

/**
 * Kafka 4.1 needs Java 17+. The registry prefers a Java 21+ (Apicurio 3.3.x); without one it falls
 * back to the last Apicurio line that still targets Java 17.
 */
export function chooseJava(opts = {}) {
  const found = javaCandidates();
  const kafka = found.find((j) => j.major >= 17);
  if (!kafka) throw new Error('No Java 17+ found (set JAVA_HOME or install openjdk-17-jdk-headless)');
  const forced = opts.apicurioVersion ?? process.env.AMNESIA_APICURIO_VERSION;
  const j21 = found.filter((j) => j.major >= 21).sort((a, b) => a.major - b.major)[0];
  let registry;
  let apicurio;
  if (forced) {
    apicurio = forced;
    registry = forced.startsWith('3.0.') ? kafka : (j21 ?? kafka);
  } else if (j21) {
    apicurio = VERSIONS.apicurio;
    registry = j21;
  } else {
    apicurio = VERSIONS.apicurioJava17;
    registry = kafka;
  }
  return {
    kafkaJava: kafka.bin,
    kafkaJavaMajor: kafka.major,
    registryJava: registry.bin,
    registryJavaMajor: registry.major,
    apicurio,
  };
}

// ---------------------------------------------------------------- fetch

function mvn(args, cwd, opts) {
  log(opts, `mvn ${args.join(' ')}`);
  const r = spawnSync('mvn', ['-B', '-q', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw new Error(`cannot run mvn (is Maven installed?): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`mvn failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

function pom(artifactId, deps) {
  const body = deps
    .map(
      (d) => `    <dependency>
      <groupId>${d.g}</groupId><artifactId>${d.a}</artifactId><version>${d.v}</version>
      ${d.type ? `<type>${d.type}</type>` : ''}${d.classifier ? `<classifier>${d.classifier}</classifier>` : ''}
      ${d.noDeps ? '<exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>' : ''}
    </dependency>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.amnesia.stack</groupId>
  <artifactId>${artifactId}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${body}
  </dependencies>
</project>
`;
}

/** Builds `dir` in a temp sibling and renames it into place, so a half-fetched cache never counts. */
function buildOnce(dir, build, opts) {
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    build(tmp);
    fs.writeFileSync(path.join(tmp, '.complete'), new Date().toISOString());
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // Another process finished the same fetch first: theirs is as good as ours.
      if (!fs.existsSync(path.join(dir, '.complete'))) throw err;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(opts, `cached ${dir}`);
  return dir;
}

export function fetchKafka(opts = {}) {
  const { cacheDir } = resolveDirs(opts);
  const v = VERSIONS;
  const dir = path.join(cacheDir, `kafka-${v.kafka}`);
  return buildOnce(
    dir,
    (tmp) => {
      fs.writeFileSync(
        path.join(tmp, 'pom.xml'),
        pom('kafka', [
          { g: 'org.apache.kafka', a: `kafka_${v.scala}`, v: v.kafka },
          { g: 'org.apache.logging.log4j', a: 'log4j-slf4j-impl', v: v.log4j },
          { g: 'org.apache.logging.log4j', a: 'log4j-core', v: v.log4j },
        ]),
      );
      mvn(['dependency:copy-dependencies', '-DincludeScope=runtime', '-DoutputDirectory=libs'], tmp, opts);
    },
    opts,
  );
}

export function fetchApicurio(version, opts = {}) {
  const { cacheDir } = resolveDirs(opts);
  const dir = path.join(cacheDir, `apicurio-registry-${version}`);
  return buildOnce(
    dir,
    (tmp) => {
      // The `all` classifier is the Quarkus application distribution (tar.gz; there is no zip).
      // `dependency:copy` resolves just that file: 3.0.x's parent pom is not published, so reading
      // the artifact's descriptor (as copy-dependencies does) fails for it.
      fs.writeFileSync(path.join(tmp, 'pom.xml'), pom('apicurio', []));
      mvn(
        [
          'dependency:copy',
          `-Dartifact=io.apicurio:apicurio-registry-app:${version}:tar.gz:all`,
          '-DoutputDirectory=dl',
        ],
        tmp,
        opts,
      );
      const tgz = path.join(tmp, 'dl', `apicurio-registry-app-${version}-all.tar.gz`);
      fs.mkdirSync(path.join(tmp, 'app'));
      const r = spawnSync('tar', ['xzf', tgz, '-C', path.join(tmp, 'app')], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
      fs.rmSync(path.join(tmp, 'dl'), { recursive: true, force: true });
    },
    opts,
  );
}

/** The runnable jar of an extracted Apicurio distribution: fast-jar (3.1+) or legacy runner (3.0). */
function apicurioJar(dir) {
  const app = path.join(dir, 'app');
  const fast = path.join(app, 'quarkus-run.jar');
  if (fs.existsSync(fast)) return fast;
  const runner = fs.readdirSync(app).find((f) => f.endsWith('-runner.jar'));
  if (!runner) throw new Error(`no runnable jar in ${app}`);
  return path.join(app, runner);
}

// ---------------------------------------------------------------- processes

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(addr.port));
    });
  });
}

function spawnDetached(cmd, args, logFile, cwd) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  child.unref();
  return child.pid;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when `pid` is still one of ours: its command line carries this stack's marker. */
function ours(pid, marker) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(marker);
  } catch {
    return alive(pid);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM the process group, wait, then SIGKILL it. Only ever signals pids we recorded. */
async function stopPid(pid, marker, timeoutMs) {
  if (!pid || !ours(pid, marker)) return;
  const signal = (sig) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    signal('SIGKILL');
    while (alive(pid)) await sleep(50);
  }
}

// ---------------------------------------------------------------- readiness

async function waitFor(what, probe, { timeoutMs, pid, logFile }) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    if (pid && !alive(pid)) {
      throw new Error(`${what} exited during start-up; last log lines:\n${tail(logFile)}`);
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastErr = err;
    }
    await sleep(250);
  }
  throw new Error(
    `${what} not ready after ${timeoutMs} ms (${lastErr?.message ?? 'no answer'}); log:\n${tail(logFile)}`,
  );
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function kafkaReady(brokers) {
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const kafka = new Kafka({
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function registryReady(url) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 2000);
  try {
    const res = await fetch(`${url}/subjects`, { signal: ac.signal });
    return res.status === 200;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- config files

function serverProperties({ port, controllerPort, dataDir, autoCreateTopics }) {
  return `# generated by scripts/stack.mjs: single-node KRaft for local development and tests
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=${autoCreateTopics ? 'true' : 'false'}
delete.topic.enable=true
# a small heap: the cleaner's dedupe buffer defaults to 128 MiB
log.cleaner.dedupe.buffer.size=16777216
log.cleaner.backoff.ms=1000
`;
}

const LOG4J2 = `# generated by scripts/stack.mjs: Kafka logs to stdout, which the stack redirects to a file
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;

// ---------------------------------------------------------------- start / stop

function readState(stackDir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(stackDir, STATE_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/** A running stack recorded in stackDir whose processes are all still alive, or undefined. */
export function stackStatus(opts = {}) {
  const { stackDir } = resolveDirs(opts);
  const st = readState(stackDir);
  if (!st) return undefined;
  const up = [st.kafka?.pid, st.registry?.pid].every((pid) => pid && ours(pid, st.marker));
  return up ? st : undefined;
}

/**
 * Starts Kafka and the registry (fetching them first if the cache is cold) and resolves once both
 * answer. Reuses an already running stack in the same stackDir.
 */
export async function startStack(opts = {}) {
  const t0 = performance.now();
  const { stackDir, cacheDir } = resolveDirs(opts);
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const existing = stackStatus({ stackDir });
  if (existing) {
    log(opts, `reusing running stack in ${stackDir}`);
    return handle(existing, stackDir, opts, false);
  }
  // Leftovers of a crashed run: stop what is still ours, then start clean.
  await stopStack({ stackDir, quiet: true });

  const java = chooseJava(opts);
  const kafkaDir = fetchKafka({ cacheDir, quiet: opts.quiet });
  const apicurioDir = fetchApicurio(java.apicurio, { cacheDir, quiet: opts.quiet });
  const fetchedMs = performance.now() - t0;

  const envPort = (name) => (process.env[name] ? Number(process.env[name]) : undefined);
  const port = opts.kafkaPort ?? envPort('AMNESIA_KAFKA_PORT') ?? (await freePort());
  const controllerPort =
    opts.controllerPort ?? envPort('AMNESIA_KAFKA_CONTROLLER_PORT') ?? (await freePort());
  const registryPort = opts.registryPort ?? envPort('AMNESIA_REGISTRY_PORT') ?? (await freePort());
  const managementPort = await freePort();

  const logsDir = path.join(stackDir, 'logs');
  const dataDir = path.join(stackDir, 'kafka-data');
  fs.mkdirSync(logsDir, { recursive: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
  const marker = `-Damnesia.stack=${stackDir}`;
  const autoCreateTopics = opts.autoCreateTopics ?? process.env.AMNESIA_STACK_AUTO_CREATE_TOPICS === 'true';

  const propsFile = path.join(stackDir, 'server.properties');
  const log4jFile = path.join(stackDir, 'log4j2.properties');
  fs.writeFileSync(propsFile, serverProperties({ port, controllerPort, dataDir, autoCreateTopics }));
  fs.writeFileSync(log4jFile, LOG4J2);

  const cp = path.join(kafkaDir, 'libs', '*');
  const kafkaJvm = [
    marker,
    '-Xms128m',
    '-Xmx512m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jFile}`,
    `-Dkafka.logs.dir=${logsDir}`,
    '-cp',
    cp,
  ];
  const kafkaLog = path.join(logsDir, 'kafka.log');
  const registryLog = path.join(logsDir, 'registry.log');

  // The registry does not depend on Kafka (H2 storage): start it while Kafka formats. In memory
  // unless persistRegistry (a restarted registry then still knows its schemas and ids).
  const registryDataDir = path.join(stackDir, 'registry-data');
  fs.rmSync(registryDataDir, { recursive: true, force: true });
  const registryStorage = opts.persistRegistry
    ? [`-Dapicurio.datasource.url=jdbc:h2:file:${path.join(registryDataDir, 'registry')}`]
    : [];
  const registryCmd = {
    cmd: java.registryJava,
    args: [
      marker,
      '-Xms64m',
      '-Xmx384m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      ...cdsArgs(java.registryJavaMajor, path.join(apicurioDir, `registry-jdk${java.registryJavaMajor}.jsa`)),
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${registryPort}`,
      '-Dquarkus.management.host=127.0.0.1',
      `-Dquarkus.management.port=${managementPort}`,
      '-Dquarkus.log.console.json=false',
      '-Dapicurio.storage.kind=sql',
      '-Dapicurio.storage.sql.kind=h2',
      '-Dapicurio.rest.deletion.group.enabled=true',
      '-Dapicurio.rest.deletion.artifact.enabled=true',
      '-Dapicurio.rest.deletion.artifact-version.enabled=true',
      ...registryStorage,
      '-jar',
      apicurioJar(apicurioDir),
    ],
  };
  const registryPid = spawnDetached(registryCmd.cmd, registryCmd.args, registryLog, stackDir);
  const state = {
    marker,
    startedAt: new Date().toISOString(),
    versions: { kafka: VERSIONS.kafka, apicurio: java.apicurio },
    kafka: {
      pid: undefined,
      port,
      controllerPort,
      log: kafkaLog,
      cmd: java.kafkaJava,
      args: [...kafkaJvm, 'kafka.Kafka', propsFile],
    },
    registry: { pid: registryPid, port: registryPort, managementPort, log: registryLog, ...registryCmd },
    kafkaBrokers: `127.0.0.1:${port}`,
    schemaRegistryUrl: `http://127.0.0.1:${registryPort}/apis/ccompat/v7`,
  };
  writeState(stackDir, state);

  try {
    const fmt = spawnSync(
      java.kafkaJava,
      [
        ...kafkaJvm,
        'kafka.tools.StorageTool',
        'format',
        `--cluster-id=${clusterId()}`,
        '-c',
        propsFile,
        '-g',
      ],
      { encoding: 'utf8' },
    );
    fs.writeFileSync(path.join(logsDir, 'kafka-format.log'), `${fmt.stdout}\n${fmt.stderr}`);
    if (fmt.status !== 0) throw new Error(`kafka storage format failed:\n${fmt.stdout}\n${fmt.stderr}`);
    state.kafka.pid = spawnDetached(state.kafka.cmd, state.kafka.args, kafkaLog, stackDir);
    writeState(stackDir, state);

    await Promise.all([
      waitFor('Kafka', () => kafkaReady([state.kafkaBrokers]), {
        timeoutMs,
        pid: state.kafka.pid,
        logFile: kafkaLog,
      }),
      waitFor('Schema registry', () => registryReady(state.schemaRegistryUrl), {
        timeoutMs,
        pid: registryPid,
        logFile: registryLog,
      }),
    ]);
  } catch (err) {
    await stopStack({ stackDir, quiet: true, keepLogs: true });
    throw err;
  }
  state.timings = { fetchMs: Math.round(fetchedMs), totalMs: Math.round(performance.now() - t0) };
  writeState(stackDir, state);
  log(
    opts,
    `ready in ${(state.timings.totalMs / 1000).toFixed(1)} s (fetch/cache ${state.timings.fetchMs} ms)`,
  );
  return handle(state, stackDir, opts, true);
}

function handle(state, stackDir, opts, startedHere) {
  return {
    kafkaBrokers: state.kafkaBrokers,
    schemaRegistryUrl: state.schemaRegistryUrl,
    stackDir,
    startedHere,
    state,
    stop: () => stopStack({ stackDir, quiet: opts.quiet }),
  };
}

/**
 * A class-data-sharing archive written on the first run and mapped on later ones (JDK 19+): it
 * roughly halves the registry's warm start on two cores. Older JDKs simply run without it.
 */
function cdsArgs(major, file) {
  return major >= 19
    ? [
        `-XX:SharedArchiveFile=${file}`,
        '-XX:+AutoCreateSharedArchive',
        '-Xlog:cds=off',
        '-Xlog:cds+dynamic=off',
      ]
    : [];
}

/** Base64url of 16 random bytes: the cluster id format StorageTool expects (it may begin with "-", so it is passed as --cluster-id=…). */
function clusterId() {
  return Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
}

function writeState(stackDir, state) {
  fs.mkdirSync(stackDir, { recursive: true });
  fs.writeFileSync(path.join(stackDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  fs.writeFileSync(
    path.join(stackDir, ENV_FILE),
    `KAFKA_BROKERS=${state.kafkaBrokers}\nSCHEMA_REGISTRY_URL=${state.schemaRegistryUrl}\n`,
  );
}

/**
 * Stops the processes recorded in stackDir (registry and broker in parallel, SIGKILL after
 * `timeoutMs`) and removes the runtime data. Safe to call when nothing runs.
 */
export async function stopStack(opts = {}) {
  const { stackDir } = resolveDirs(opts);
  const st = readState(stackDir);
  if (st) {
    const timeoutMs = opts.timeoutMs ?? 15_000;
    await Promise.all([
      stopPid(st.registry?.pid, st.marker, timeoutMs),
      stopPid(st.kafka?.pid, st.marker, timeoutMs),
    ]);
    log(opts, `stopped stack in ${stackDir}`);
  }
  // Only what start created: the stack dir may also hold other stacks' per-run dirs (tests).
  const created = [
    'kafka-data',
    'registry-data',
    STATE_FILE,
    ENV_FILE,
    'server.properties',
    'log4j2.properties',
  ];
  if (!opts.keepLogs) created.push('logs');
  for (const f of created) fs.rmSync(path.join(stackDir, f), { recursive: true, force: true });
  try {
    fs.rmdirSync(stackDir);
  } catch {
    /* not empty (other stacks' dirs, kept logs) or already gone */
  }
}

// ---------------------------------------------------------------- failures (tests)

function runningState(stackDir, which) {
  const st = readState(stackDir);
  if (!st?.[which]?.cmd) throw new Error(`no ${which} recorded in ${stackDir}`);
  return st;
}

/**
 * Sends `signal` to the broker (`which: 'kafka'`) or the registry of the stack in `stackDir` — a
 * stack of its own, for tests that crash, stop or pause them; never a shared one. SIGKILL and
 * SIGTERM resolve once the process is gone (SIGKILL after `timeoutMs`, default 15 s).
 */
export async function signalStackProcess({ stackDir, which, signal, timeoutMs = 15_000 }) {
  const st = runningState(path.resolve(stackDir), which);
  const pid = st[which].pid;
  if (!pid || !ours(pid, st.marker)) return;
  if (signal === 'SIGKILL' || signal === 'SIGTERM') {
    process.kill(-pid, signal);
    const deadline = Date.now() + timeoutMs;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    if (alive(pid)) await stopPid(pid, st.marker, 0);
  } else process.kill(-pid, signal);
}

/**
 * Starts the broker or the registry again with the command line it was started with (same ports,
 * same data directory: the broker recovers its logs, a `persistRegistry` registry its schemas) and
 * resolves once it answers.
 */
export async function restartStackProcess({ stackDir, which, timeoutMs = 120_000 }) {
  const dir = path.resolve(stackDir);
  const st = runningState(dir, which);
  const proc = st[which];
  if (proc.pid && ours(proc.pid, st.marker)) throw new Error(`${which} of ${dir} is still running`);
  proc.pid = spawnDetached(proc.cmd, proc.args, proc.log, dir);
  writeState(dir, st);
  const probe =
    which === 'kafka' ? () => kafkaReady([st.kafkaBrokers]) : () => registryReady(st.schemaRegistryUrl);
  await waitFor(which, probe, { timeoutMs, pid: proc.pid, logFile: proc.log });
}

// ---------------------------------------------------------------- CLI

async function cli(argv) {
  const cmd = argv[0] ?? 'up';
  if (cmd === 'up') {
    const s = await startStack();
    process.stdout.write(`KAFKA_BROKERS=${s.kafkaBrokers}\nSCHEMA_REGISTRY_URL=${s.schemaRegistryUrl}\n`);
    process.stderr.write(
      `[stack] env written to ${path.join(s.stackDir, ENV_FILE)}; logs in ${path.join(s.stackDir, 'logs')}\n`,
    );
  } else if (cmd === 'down') {
    await stopStack();
  } else if (cmd === 'status') {
    const st = stackStatus();
    if (!st) {
      process.stdout.write('not running\n');
      process.exitCode = 1;
    } else {
      process.stdout.write(`KAFKA_BROKERS=${st.kafkaBrokers}\nSCHEMA_REGISTRY_URL=${st.schemaRegistryUrl}\n`);
    }
  } else if (cmd === 'fetch') {
    const java = chooseJava();
    fetchKafka();
    fetchApicurio(java.apicurio);
  } else {
    process.stderr.write('usage: node scripts/stack.mjs up|down|status|fetch\n');
    process.exitCode = 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`[stack] ${err.stack ?? err}\n`);
    process.exitCode = 1;
  });
}

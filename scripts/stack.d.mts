// Types of scripts/stack.mjs (plain ESM so that `npm run stack:up` needs no build step).

export declare const VERSIONS: Readonly<{
  kafka: string;
  scala: string;
  log4j: string;
  apicurio: string;
  apicurioJava17: string;
}>;

export interface StackDirsOptions {
  /** Jar cache; default `$AMNESIA_CACHE_DIR` or `<repo>/.cache`. */
  cacheDir?: string;
  /** Runtime data, logs, pids, `env`, `stack.json`; default `$AMNESIA_STACK_DIR` or `<repo>/.stack`. */
  stackDir?: string;
}

export interface StartStackOptions extends StackDirsOptions {
  /** Broker port; default `$AMNESIA_KAFKA_PORT` or a free port. */
  kafkaPort?: number;
  /** KRaft controller port; default `$AMNESIA_KAFKA_CONTROLLER_PORT` or a free port. */
  controllerPort?: number;
  /** Registry HTTP port; default `$AMNESIA_REGISTRY_PORT` or a free port. */
  registryPort?: number;
  /** Apicurio version; default `$AMNESIA_APICURIO_VERSION`, else chosen by the Java found. */
  apicurioVersion?: string;
  /** Broker `auto.create.topics.enable`; default `$AMNESIA_STACK_AUTO_CREATE_TOPICS === 'true'`. */
  autoCreateTopics?: boolean;
  /** Registry storage on disk in the stack dir (default: in memory), so that a restart keeps it. */
  persistRegistry?: boolean;
  /** How long to wait for both services to answer (ms, default 180000). */
  timeoutMs?: number;
  /** No progress lines on stderr. */
  quiet?: boolean;
}

export interface StackState {
  marker: string;
  startedAt: string;
  versions: { kafka: string; apicurio: string };
  kafka: { pid?: number; port: number; controllerPort: number; log: string; cmd: string; args: string[] };
  registry: {
    pid: number;
    port: number;
    managementPort: number;
    log: string;
    cmd: string;
    args: string[];
  };
  kafkaBrokers: string;
  schemaRegistryUrl: string;
  timings?: { fetchMs: number; totalMs: number };
}

export interface Stack {
  /** `127.0.0.1:<port>` */
  kafkaBrokers: string;
  /** `http://127.0.0.1:<port>/apis/ccompat/v7` */
  schemaRegistryUrl: string;
  stackDir: string;
  /** False when an already running stack in the same stackDir was reused. */
  startedHere: boolean;
  state: StackState;
  /** Stops both processes and removes the stack dir. */
  stop(): Promise<void>;
}

export declare function resolveDirs(opts?: StackDirsOptions): { cacheDir: string; stackDir: string };
export declare function chooseJava(opts?: { apicurioVersion?: string }): {
  kafkaJava: string;
  kafkaJavaMajor: number;
  registryJava: string;
  registryJavaMajor: number;
  apicurio: string;
};
export declare function fetchKafka(opts?: StackDirsOptions & { quiet?: boolean }): string;
export declare function fetchApicurio(version: string, opts?: StackDirsOptions & { quiet?: boolean }): string;
export declare function freePort(): Promise<number>;
export declare function stackStatus(opts?: StackDirsOptions): StackState | undefined;
export declare function startStack(opts?: StartStackOptions): Promise<Stack>;
export declare function stopStack(
  opts?: StackDirsOptions & { quiet?: boolean; keepLogs?: boolean; timeoutMs?: number },
): Promise<void>;

export interface StackProcessOptions {
  stackDir: string;
  which: 'kafka' | 'registry';
  timeoutMs?: number;
}
export declare function signalStackProcess(
  opts: StackProcessOptions & { signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT' },
): Promise<void>;
export declare function restartStackProcess(opts: StackProcessOptions): Promise<void>;

// A Kafka broker and schema registry of the test's own (scripts/stack.mjs), for chaos tests that
// crash or stop them — never the shared stack. Its directory is `.stack/test-<pid>` of the test
// process, so the global setup stops it if the process died before its afterAll. The registry keeps
// its schemas on disk, so that a restarted registry knows the same ids.
import path from 'node:path';
import { restartStackProcess, signalStackProcess, startStack, type Stack } from '../../scripts/stack.mjs';
import type { Infrastructure } from './service.js';

export interface PrivateStack extends Infrastructure {
  /** SIGKILL: the broker dies with whatever it had not written. */
  killBroker(): Promise<void>;
  /** The broker again, same port and data directory: it recovers its logs. */
  restartBroker(): Promise<void>;
  /** SIGTERM: the registry goes away (connections refused). */
  stopRegistry(): Promise<void>;
  restartRegistry(): Promise<void>;
  stop(): Promise<void>;
}

export async function privateStack(): Promise<PrivateStack> {
  const stackDir = path.resolve('.stack', `test-${process.pid}`);
  const stack: Stack = await startStack({ stackDir, persistRegistry: true, quiet: true });
  const which = (w: 'kafka' | 'registry') => ({ stackDir, which: w });
  return {
    kafkaBrokers: stack.kafkaBrokers,
    schemaRegistryUrl: stack.schemaRegistryUrl,
    killBroker: () => signalStackProcess({ ...which('kafka'), signal: 'SIGKILL' }),
    restartBroker: () => restartStackProcess(which('kafka')),
    stopRegistry: () => signalStackProcess({ ...which('registry'), signal: 'SIGTERM' }),
    restartRegistry: () => restartStackProcess(which('registry')),
    stop: () => stack.stop(),
  };
}

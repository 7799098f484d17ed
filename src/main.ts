// Composition root: config → logger → app (metrics, HTTP, inspector, service in MODE single or
// partitioned) → signals.
// A bad configuration exits 1 before anything connects; SIGTERM/SIGINT stop gracefully within
// SHUTDOWN_TIMEOUT_MS (exit 0), or exit 1 when that bound is exceeded.
import { loadConfig, type Config } from './config.js';
import { AmnesiaError, ConfigError, describeError } from './errors.js';
import { createLogger } from './log.js';
import { startApp } from './app.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`amnesia: invalid configuration: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  const mainLog = log.child({ module: 'main' });
  mainLog.info({ mode: config.mode }, 'starting');

  let shuttingDown = false;
  const app = await startApp(config, {
    log,
    fault: process.env.AMNESIA_FAULT,
    onFatal: (error) => {
      mainLog.fatal({ err: describeError(error) }, 'consumer failed for good, exiting');
      process.exit(1);
    },
  });

  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    mainLog.info({ signal }, 'shutdown requested');
    const timer = setTimeout(() => {
      mainLog.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    app.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        mainLog.error({ err: describeError(e) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((e: unknown) => {
  // An AmnesiaError's message is written for the operator (the kafkajs mend refusal, say).
  process.stderr.write(`amnesia: ${e instanceof AmnesiaError ? e.message : describeError(e)}\n`);
  process.exit(1);
});

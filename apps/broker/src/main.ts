/**
 * `npm run broker -- --port 19092 --data-dir /some/dir`: runs the broker in the foreground.
 * SIGTERM/SIGINT stop accepting, flush and exit 0.
 */
import { ConfigError, createLogger, exitWithSupervisor } from '@hearth/runtime';
import { startBroker } from './broker';
import { loadBrokerConfig } from './config';

const EX_CONFIG = 78;
// File writes, fdatasyncs and fetch reads all run on libuv's thread pool (4 threads by default):
// one fsync per partition in a group commit must not leave fetch reads queued behind it.
process.env.UV_THREADPOOL_SIZE ??= '16';

async function main(): Promise<void> {
  const log = createLogger('broker');
  let config;
  try {
    config = loadBrokerConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(EX_CONFIG);
  }
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting (acknowledged data is on disk)');
    process.exit(70);
  });
  const broker = await startBroker(config, log);
  let stopping = false;
  /** Stops accepting, flushes and exits; `quiet` when stdout may have no reader left. */
  const stop = (reason: string, quiet = false) => {
    if (stopping) process.exit(1);
    stopping = true;
    if (!quiet) log.info({ reason }, 'shutting down');
    broker.close().then(
      () => {
        if (!quiet) log.info('broker stopped');
        process.exit(0);
      },
      (err: unknown) => {
        if (!quiet) log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Started by a test helper with an IPC channel: never outlive it, however it dies. Its end of
  // our stdout died with it, and a log line could block on that pipe, so stop without one.
  if (process.send) {
    process.on('message', () => undefined); // reading the channel is what notices it closing
    process.on('disconnect', () => stop('parent exited', true));
  }
  exitWithSupervisor(() => stop('supervisor gone', true)); // `npm start` died: do not live on as an orphan
  // Announced last: whoever reads this line may send SIGTERM at once, and must find the handler.
  log.info({ host: broker.host, port: broker.port, dataDir: broker.dataDir, fsync: config.HEARTH_BROKER_FSYNC }, 'broker listening');
}

main().catch((err: unknown) => {
  process.stderr.write(`broker failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

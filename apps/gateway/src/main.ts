import { createLogger, exitWithSupervisor, loadConfigOrExit } from '@hearth/runtime';
import { startGateway } from './bootstrap';
import { gatewayConfigSchema } from './config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(gatewayConfigSchema);
  const logger = createLogger('gateway');
  const gateway = await startGateway(config, logger);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await gateway.close();
    process.exit(0);
  };
  // `on`, not `once`: a library's signal-exit hook re-raises the signal when it is the last listener left.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  exitWithSupervisor(() => void stop('supervisor gone')); // `npm start` died: do not live on as an orphan
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

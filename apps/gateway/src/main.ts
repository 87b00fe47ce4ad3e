import { createLogger, exitWithSupervisor, loadConfigOrExit } from '@hearth/runtime';
import { startGateway, type RunningGateway } from './bootstrap';
import { gatewayConfigSchema } from './config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(gatewayConfigSchema);
  const logger = createLogger('gateway');
  let starting: Promise<RunningGateway> | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // A signal during start-up waits for the start to finish, then closes what it opened.
    const gateway = await starting?.catch(() => null);
    await gateway?.close();
    process.exit(0);
  };
  // Installed before "gateway listening" is logged: whoever reads that line may signal at once.
  // `on`, not `once`: a library's signal-exit hook re-raises the signal when it is the last listener left.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  exitWithSupervisor(() => void stop('supervisor gone')); // `npm start` died: do not live on as an orphan
  starting = startGateway(config, logger);
  await starting;
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * Ties a child (broker, service) to the test process: it is killed when the test process exits,
 * whatever happened, and it does not keep the test process alive. A test file whose setup failed
 * halfway (e.g. `[broker, postgres] = await Promise.all(...)` where PostgreSQL did not start)
 * never disposes what did start; a child that held the event loop open would keep the file, and
 * the whole `npm test` run, waiting forever.
 */
export function endWithTestProcess(child: ChildProcess): void {
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref();
}

import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * Lets the test process end while `child` still runs: a test file whose setup failed halfway
 * (e.g. `[broker, postgres] = await Promise.all(...)` where PostgreSQL did not start) never
 * disposes what did start, and a child that held the event loop open would keep the file, and
 * the whole `npm test` run, waiting forever. The caller kills the child on exit instead.
 */
export function letExitWithout(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref();
}

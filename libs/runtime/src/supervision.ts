/**
 * A process started by `npm start` gets a stdin pipe from it; when that pipe closes, the
 * supervisor is gone (even if it was SIGKILLed), and the process shuts down instead of
 * living on as an orphan.
 */
export function exitWithSupervisor(shutdown: () => void): void {
  if (process.env.HEARTH_SUPERVISED !== '1') return;
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

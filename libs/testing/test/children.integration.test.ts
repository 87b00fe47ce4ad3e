/**
 * A test file whose setup failed halfway never disposes the broker or service it did start; its
 * process must still end (and take the child with it), or `npm test` waits forever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { isProcessAlive } from '@hearth/runtime';

const TESTING = path.resolve(__dirname, '../src');

test('a process that started a broker and never disposed it exits, and the broker with it', async () => {
  // Starts a broker, reports its pid, and returns without disposing it: as a test file whose
  // `[broker, postgres] = await Promise.all(...)` failed on PostgreSQL would leave it.
  const script = `require(${JSON.stringify(TESTING)}).startBroker().then((b) => console.log(JSON.stringify({ pid: b.pid })))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!exited) child.kill('SIGKILL');
  assert.ok(exited, 'the process kept running after its work was done');
  const { pid } = JSON.parse(output.trim()) as { pid: number };
  for (let i = 0; i < 50 && isProcessAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(isProcessAlive(pid), false, 'the broker outlived the process that started it');
});

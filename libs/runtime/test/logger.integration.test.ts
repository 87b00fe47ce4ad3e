import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const RUNTIME = join(__dirname, '../src/index.js');

/** Runs a script that logs through createLogger, and collects what reached its stdout. */
function run(script: string): Promise<{ code: number | null; lines: Record<string, unknown>[] }> {
  const child = spawn(process.execPath, ['-e', `const { createLogger } = require(${JSON.stringify(RUNTIME)});\n${script}`], {
    stdio: ['ignore', 'pipe', 'ignore'], // stderr: the crash test's stack trace is expected noise
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, lines: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) });
  }));
}

test('every line logged before process.exit reaches stdout (asynchronous writes are flushed on exit)', async () => {
  const { code, lines } = await run(`
    const log = createLogger('exit-test', 'info');
    for (let i = 0; i < 5000; i++) log.info({ i, padding: 'x'.repeat(200) }, 'line');
    log.error('the reason for exiting');
    process.exit(3);`);
  assert.equal(code, 3);
  assert.equal(lines.length, 5001);
  assert.deepEqual(lines.slice(0, 5000).map((l) => l.i), Array.from({ length: 5000 }, (_, i) => i), 'in order, none lost');
  assert.equal(lines.at(-1)!.msg, 'the reason for exiting');
});

test('the last line before an uncaught exception reaches stdout', async () => {
  const { code, lines } = await run(`
    const log = createLogger('crash-test', 'info');
    for (let i = 0; i < 1000; i++) log.info({ i, padding: 'x'.repeat(200) }, 'line');
    log.fatal('about to crash');
    setImmediate(() => { throw new Error('boom'); });`);
  assert.notEqual(code, 0);
  assert.equal(lines.at(-1)!.msg, 'about to crash');
  assert.equal(lines.length, 1001);
});

test('secrets are redacted', async () => {
  const { lines } = await run(`createLogger('redact-test', 'info').info({ password: 'hunter2', user: { token: 't' } }, 'login');`);
  assert.equal(lines[0]!.password, '***');
  assert.deepEqual(lines[0]!.user, { token: '***' });
});

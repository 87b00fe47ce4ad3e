/**
 * The broker as operators run it: `node apps/broker/dist/src/main.js --port ... --data-dir ...`.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { startBroker, type RunningBroker } from '@hearth/testing';

const MAIN = path.join(__dirname, '../src/main.js');

function run(args: string[], env: Record<string, string> = {}): { exit: Promise<{ code: number | null; output: string }>; kill: (s: NodeJS.Signals) => void; line: (match: string) => Promise<string> } {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  process.on('exit', () => child.kill('SIGKILL'));
  let output = '';
  const waiters: { match: string; resolve: (l: string) => void }[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    readline.createInterface({ input: stream }).on('line', (l) => {
      output += l + '\n';
      for (const w of waiters.filter((w) => l.includes(w.match))) w.resolve(l);
    });
  }
  const exit = new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  void exit.then(() => clearTimeout(timer));
  return { exit, kill: (s) => child.kill(s), line: (match) => new Promise((resolve) => waiters.push({ match, resolve })) };
}

describe('broker command line', () => {
  const dirs: string[] = [];
  let other: RunningBroker | undefined;
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-broker-cli-'));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    await other?.dispose();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('listens on the port the OS picks for --port 0, logs it, and exits 0 on SIGTERM', async () => {
    const broker = run(['--port', '0', '--data-dir', tempDir()]);
    const line = JSON.parse(await broker.line('broker listening')) as { port: number; host: string };
    assert.ok(line.port > 0);
    assert.equal(line.host, '127.0.0.1');
    broker.kill('SIGTERM');
    const { code, output } = await broker.exit;
    assert.equal(code, 0);
    assert.match(output, /broker stopped/);
  });

  it('takes settings from HEARTH_BROKER_* variables, flags winning', async () => {
    const dir = tempDir();
    const broker = run(['--data-dir', dir], { HEARTH_BROKER_PORT: '0', HEARTH_BROKER_DATA_DIR: '/nonexistent/ignored' });
    const line = JSON.parse(await broker.line('broker listening')) as { dataDir: string };
    assert.equal(line.dataDir, dir);
    broker.kill('SIGINT');
    assert.equal((await broker.exit).code, 0);
  });

  it('refuses bad configuration with exit code 78 and names it', async () => {
    const unknown = await run(['--colour', 'blue']).exit;
    assert.equal(unknown.code, 78);
    assert.match(unknown.output, /--colour/);
    const badValue = await run(['--port', '0', '--data-dir', tempDir()], { HEARTH_BROKER_FSYNC: 'sometimes' }).exit;
    assert.equal(badValue.code, 78);
    assert.match(badValue.output, /HEARTH_BROKER_FSYNC/);
  });

  it('refuses a data directory that another live broker uses', async () => {
    other = await startBroker();
    const second = await run(['--port', '0', '--data-dir', other.dataDir]).exit;
    assert.equal(second.code, 1);
    assert.match(second.output, /in use by process/);
  });
});

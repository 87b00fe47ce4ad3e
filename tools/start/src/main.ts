/**
 * `npm start`: runs the whole system on one machine. Starts the broker (unless
 * HEARTH_KAFKA_BROKERS points at a Kafka cluster) and an embedded PostgreSQL (unless every
 * service has a DATABASE_URL), then every built service as its own process with its logs
 * prefixed, prints the endpoints (and demo logins in development), and on Ctrl-C stops them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { startEmbeddedPostgres, type RunningPostgres } from '@hearth/database';
import { createLogger, env, loadConfigOrExit } from '@hearth/runtime';
import { DEFAULT_BROKER_PORT, DEFAULT_POSTGRES_PORT, DEMO_PASSWORD, DEMO_USERS, services, type ServiceDefinition } from './services';

const root = resolve(__dirname, '../../../..');
const logger = createLogger('start');

const config = loadConfigOrExit(z.object({
  HEARTH_MODE: z.enum(['development', 'production']).default('development'),
  HEARTH_DATA_DIR: env.string('.hearth'),
  HEARTH_DOMAINS: env.string('localhost'),
  HEARTH_KAFKA_BROKERS: z.string().optional(),
  HEARTH_BROKER_PORT: env.port(DEFAULT_BROKER_PORT),
  HEARTH_POSTGRES_PORT: env.port(DEFAULT_POSTGRES_PORT),
  HEARTH_ADMIN_TOKEN: z.string().min(16).optional(),
  HEARTH_JWT_SECRET: z.string().min(32).optional(),
}));

const fresh = process.argv.includes('--fresh');
const dataDir = resolve(root, config.HEARTH_DATA_DIR);
const children: { name: string; process: ChildProcess }[] = [];
let postgres: RunningPostgres | undefined;
let stopping = false;

async function main(): Promise<void> {
  const started = Date.now();
  if (fresh) {
    logger.info({ dataDir }, '--fresh: removing the data directory');
    rmSync(dataDir, { recursive: true, force: true });
  }
  mkdirSync(dataDir, { recursive: true });
  const secrets = loadSecrets();

  const brokers = config.HEARTH_KAFKA_BROKERS ?? (await startBroker());
  const runnable = services.filter((service) => existsSync(mainOf(service.name)));
  const databaseUrls = await prepareDatabases(runnable);

  const common = {
    HEARTH_MODE: config.HEARTH_MODE,
    HEARTH_DATA_DIR: dataDir,
    HEARTH_DOMAINS: config.HEARTH_DOMAINS,
    HEARTH_KAFKA_BROKERS: brokers,
    HEARTH_ADMIN_TOKEN: secrets.adminToken,
    HEARTH_JWT_SECRET: secrets.jwtSecret,
    ...Object.fromEntries(services.filter((s) => s.grpcPort).map((s) => [grpcUrlVariable(s.name), `127.0.0.1:${s.grpcPort}`])),
  };
  await Promise.all(runnable.map((service) =>
    startChild(service.name, mainOf(service.name), {
      ...common,
      ...(databaseUrls[service.name] ? { DATABASE_URL: databaseUrls[service.name] } : {}),
      HEARTH_HTTP_PORT: String(service.httpPort),
      ...(service.grpcPort ? { HEARTH_GRPC_PORT: String(service.grpcPort) } : {}),
      ...service.env,
    }, { check: () => waitUntilReady(service) })));

  const gatewayRunning = runnable.some((s) => s.name === 'gateway');
  if (config.HEARTH_MODE === 'development' && gatewayRunning) await provisionDemoUsers(secrets.adminToken);
  printSummary(brokers, runnable, Date.now() - started, secrets.adminToken, gatewayRunning);
}

const mainOf = (name: string) => join(root, 'apps', name, 'dist/src/main.js');
const grpcUrlVariable = (name: string) => `HEARTH_${name.toUpperCase().replace('-', '_')}_GRPC_URL`;

/** Development secrets are generated once and kept in the data directory; production must pass them. */
function loadSecrets(): { adminToken: string; jwtSecret: string } {
  if (config.HEARTH_MODE === 'production') {
    if (!config.HEARTH_ADMIN_TOKEN || !config.HEARTH_JWT_SECRET) {
      process.stderr.write('configuration error: HEARTH_ADMIN_TOKEN and HEARTH_JWT_SECRET must be set in production mode\n');
      process.exit(78);
    }
    return { adminToken: config.HEARTH_ADMIN_TOKEN, jwtSecret: config.HEARTH_JWT_SECRET };
  }
  const file = join(dataDir, 'dev-secrets.json');
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { adminToken: string; jwtSecret: string }) : undefined;
  const secrets = {
    adminToken: config.HEARTH_ADMIN_TOKEN ?? stored?.adminToken ?? randomBytes(24).toString('base64url'),
    jwtSecret: config.HEARTH_JWT_SECRET ?? stored?.jwtSecret ?? randomBytes(32).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

async function startBroker(): Promise<string> {
  const port = config.HEARTH_BROKER_PORT;
  await startChild('broker', join(root, 'apps/broker/dist/src/main.js'), {
    HEARTH_BROKER_PORT: String(port),
    HEARTH_BROKER_HOST: '127.0.0.1',
    HEARTH_BROKER_DATA_DIR: join(dataDir, 'broker'),
  }, { logLine: (line) => line.includes('broker listening') });
  return `127.0.0.1:${port}`;
}

/** One database per service: the embedded server, unless each service already has a URL. */
async function prepareDatabases(runnable: ServiceDefinition[]): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  const missing = runnable.filter((s) => s.database && !process.env[databaseUrlVariable(s.name)]);
  for (const service of runnable) {
    const external = process.env[databaseUrlVariable(service.name)];
    if (external) urls[service.name] = external;
  }
  if (missing.length === 0) return urls;
  postgres = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), port: config.HEARTH_POSTGRES_PORT, logger });
  for (const service of missing) urls[service.name] = await postgres.createDatabase(service.database!);
  return urls;
}

const databaseUrlVariable = (name: string) => `HEARTH_${name.toUpperCase().replace('-', '_')}_DATABASE_URL`;

/** When a child counts as started: a line it logs, or a check that resolves. */
type Readiness = { logLine: (line: string) => boolean } | { check: () => Promise<void> };

/**
 * Starts one process with its output prefixed by its name and resolves once it is ready. A
 * child that exits while we are not stopping stops the whole system.
 */
function startChild(name: string, script: string, childEnv: Record<string, string>, ready: Readiness): Promise<void> {
  const child = spawn(process.execPath, ['--enable-source-maps', script], {
    cwd: root,
    env: { ...process.env, ...childEnv, HEARTH_SUPERVISED: '1' },
    // stdin stays a pipe: a service exits when it closes, so no process outlives `npm start`.
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C reaches only us, and we stop the services before the broker
    // (a gateway's last session events need the broker still up).
    detached: true,
  });
  children.push({ name, process: child });
  const label = `[${name}]`.padEnd(13);
  return new Promise((resolvePromise, reject) => {
    let isReady = false;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        process.stdout.write(`${label}${line}\n`);
        if (!isReady && 'logLine' in ready && ready.logLine(line)) {
          isReady = true;
          resolvePromise();
        }
      });
    }
    child.once('exit', (code, signal) => {
      if (!stopping) {
        logger.error({ service: name, code, signal }, 'a service exited; stopping everything');
        void shutdown(1);
      }
      if (!isReady) reject(new Error(`${name} exited before it was ready`));
    });
    if ('check' in ready) {
      ready.check().then(() => {
        isReady = true;
        resolvePromise();
      }, reject);
    }
  });
}

async function waitUntilReady(service: ServiceDefinition): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(`http://127.0.0.1:${service.httpPort}${service.readinessPath}`);
      if (response.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${service.name} did not become ready within 60 s`);
}

async function provisionDemoUsers(adminToken: string): Promise<void> {
  const domain = config.HEARTH_DOMAINS.split(',')[0]!.trim();
  for (const user of DEMO_USERS) {
    const response = await fetch(`http://127.0.0.1:5280/admin/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jid: `${user}@${domain}`, password: DEMO_PASSWORD }),
    });
    // 409: the user exists from an earlier run.
    if (!response.ok && response.status !== 409) logger.warn({ user, status: response.status }, 'could not provision a demo user');
  }
}

function printSummary(brokers: string, runnable: ServiceDefinition[], elapsedMs: number, adminToken: string, gatewayRunning: boolean): void {
  const domain = config.HEARTH_DOMAINS.split(',')[0]!.trim();
  const lines = [
    '',
    `Hearth is running (${config.HEARTH_MODE}, started in ${(elapsedMs / 1000).toFixed(1)} s). Ctrl-C stops everything.`,
    `  Kafka broker        ${brokers}`,
    ...(postgres ? [`  PostgreSQL          127.0.0.1:${postgres.port} (one database per service)`] : []),
    ...runnable.flatMap((s) => s.name === 'gateway'
      ? [
          `  XMPP (STARTTLS)     ${domain}:5222`,
          `  XMPP (direct TLS)   ${domain}:5223`,
          `  XMPP WebSocket      ws://${domain}:5280/xmpp-websocket`,
          `  gateway HTTP        http://127.0.0.1:5280  (admin API, /healthz, /readyz, /metrics)`,
        ]
      : [`  ${s.name.padEnd(18)}  http://127.0.0.1:${s.httpPort}${s.grpcPort ? `  gRPC 127.0.0.1:${s.grpcPort}` : ''}`]),
    ...(config.HEARTH_MODE === 'development'
      ? [
          `  admin token         ${adminToken}  (development only; kept in ${join(config.HEARTH_DATA_DIR, 'dev-secrets.json')})`,
          ...(gatewayRunning ? [`  demo logins         ${DEMO_USERS.map((u) => `${u}@${domain}`).join(', ')}  password: ${DEMO_PASSWORD}`] : []),
        ]
      : []),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('stopping every service');
  // Services first (they drain and commit), the broker after them, PostgreSQL last.
  const order = [...children].reverse();
  for (const { process: child } of order.filter((c) => c.name !== 'broker')) child.kill('SIGTERM');
  await Promise.all(order.filter((c) => c.name !== 'broker').map(({ process: child }) => exited(child, 15_000)));
  for (const { process: child } of order.filter((c) => c.name === 'broker')) {
    child.kill('SIGTERM');
    await exited(child, 15_000);
  }
  await postgres?.stop().catch(() => undefined);
  process.exit(code);
}

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolvePromise();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
  });
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
main().catch((error: unknown) => {
  logger.error({ err: error }, 'start failed');
  void shutdown(1);
});

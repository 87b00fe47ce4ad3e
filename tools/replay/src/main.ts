#!/usr/bin/env node
/**
 * hearth-replay: rebuilds a projection from offset 0 and reports events/s.
 *
 *   hearth-replay rebuild archive --database-url <url> --brokers <host:port,...> [--compare-with <live url>] [--timeout-seconds 600]
 *
 * The database at --database-url is emptied (DROP SCHEMA public CASCADE): give it a fresh
 * database, or stop the service that uses it first. With --compare-with, every table of the
 * rebuilt database is compared row for row, in primary-key order, with the live one; the exit
 * code is 1 when they differ. Exit 2 on a usage error.
 */
import { parseArgs } from 'node:util';
import { compareDatabases } from './compare';
import { PROJECTIONS, rebuild, type ProjectionName } from './rebuild';

const USAGE = 'usage: hearth-replay rebuild <archive> --database-url <url> --brokers <host:port,...> [--compare-with <url>] [--timeout-seconds <n>]';
const DEFAULT_TIMEOUT_SECONDS = 600;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'database-url': { type: 'string' },
      brokers: { type: 'string', default: process.env.HEARTH_KAFKA_BROKERS },
      'compare-with': { type: 'string' },
      'timeout-seconds': { type: 'string', default: String(DEFAULT_TIMEOUT_SECONDS) },
    },
  });
  const [command, projection] = positionals;
  const timeoutSeconds = Number(values['timeout-seconds']);
  if (command !== 'rebuild' || !projection || !(projection in PROJECTIONS) || !values['database-url'] || !values.brokers
    || !Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) {
    process.stderr.write(`${USAGE}\nprojections: ${Object.keys(PROJECTIONS).join(', ')}\n`);
    return 2;
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const report = await rebuild({
    projection: projection as ProjectionName, databaseUrl: values['database-url'], brokers: values.brokers.split(',').map((b) => b.trim()),
    timeoutMs: timeoutSeconds * 1_000, log,
  });
  log(`rebuilt ${projection}: ${report.events} events in ${report.seconds.toFixed(2)} s = ${Math.round(report.eventsPerSecond)} events/s (group ${report.group})`);
  if (!values['compare-with']) return 0;
  const tables = await compareDatabases(values['compare-with'], values['database-url']);
  for (const t of tables) log(`${t.difference ? 'DIFFERS' : 'equal  '} ${t.table} (${t.rows} rows)${t.difference ? `: ${t.difference}` : ''}`);
  const differing = tables.filter((t) => t.difference);
  log(differing.length === 0 ? 'the rebuilt projection equals the live one, row for row' : `${differing.length} table(s) differ`);
  return differing.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error: unknown) => {
  process.stderr.write(`hearth-replay failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

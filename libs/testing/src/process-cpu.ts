/**
 * Where a benchmark's CPU went, machine-wide: every process's user + system time from /proc,
 * read before and after a step and summed per part of the system (a part is chosen by pid or by
 * command line; PostgreSQL names each backend after its database). Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** CPU seconds used so far, and the command line, by pid. */
export type CpuSnapshot = Map<number, { command: string; seconds: number }>;

/** Ticks in /proc/<pid>/stat (USER_HZ, 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds the process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export function snapshotCpu(): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const seconds = cpuSeconds(pid);
      snapshot.set(pid, { command: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim(), seconds });
    } catch {
      // The process ended while the snapshot was taken.
    }
  }
  return snapshot;
}

/**
 * CPU seconds each part used between two snapshots. `partOf` names a process's part, or returns
 * undefined to leave it out. A process that started in between counts from zero; one that ended
 * is lost (pool connections of a busy service rarely come and go).
 */
export function cpuByPart(before: CpuSnapshot, after: CpuSnapshot, partOf: (pid: number, command: string) => string | undefined): Map<string, number> {
  const parts = new Map<string, number>();
  for (const [pid, { command, seconds }] of after) {
    const part = partOf(pid, command);
    if (part === undefined) continue;
    parts.set(part, (parts.get(part) ?? 0) + seconds - (before.get(pid)?.seconds ?? 0));
  }
  return parts;
}

/** The database a PostgreSQL backend serves, from its process title ("postgres: user database host(port) state", or "[local]" for a Unix socket). */
export function postgresDatabaseOf(command: string): string | undefined {
  const title = /^postgres: \S+ (\S+) (?:\[local\]|\S+\(\d+\))/.exec(command);
  return title?.[1];
}

/**
 * A `partOf` for cpuByPart: processes named by pid, PostgreSQL backends by the URL of their
 * database, and PostgreSQL's own processes (WAL writer, checkpointer…) as "PostgreSQL shared";
 * the rest of the machine is left out.
 */
export function partsOf(byPid: Record<number, string>, byDatabaseUrl: Record<string, string>): (pid: number, command: string) => string | undefined {
  const byDatabase = new Map(Object.entries(byDatabaseUrl).map(([url, part]) => [new URL(url).pathname.slice(1), part]));
  return (pid, command) => {
    if (byPid[pid] !== undefined) return byPid[pid];
    if (!command.startsWith('postgres: ')) return undefined;
    return byDatabase.get(postgresDatabaseOf(command) ?? '') ?? 'PostgreSQL shared';
  };
}

/** A benchmark's two lines on CPU: per message by part, largest first (with the cores it kept busy), and in all. */
export function cpuReport(parts: Map<string, number>, messages: number, seconds: number): string[] {
  const sorted = [...parts].sort((a, b) => b[1] - a[1]);
  const total = sorted.reduce((sum, [, used]) => sum + used, 0);
  const perMessage = (used: number) => `${(used / Math.max(1, messages) * 1e6).toFixed(0)} µs`;
  return [
    `CPU per message: ${sorted.map(([part, used]) => `${part} ${perMessage(used)} (${(used / seconds).toFixed(2)} cores)`).join(', ')}`,
    `CPU in all: ${perMessage(total)} per message, ${(total / seconds).toFixed(2)} of this machine's ${availableParallelism()} cores`,
  ];
}

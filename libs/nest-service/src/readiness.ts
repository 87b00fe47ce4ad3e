import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => boolean | Promise<boolean>;

/**
 * What `/readyz` asks: each component registers a check (database reachable, broker reachable,
 * consumer joined). Ready means every check passes.
 */
@Injectable()
export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async report(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          return [name, await withTimeout(Promise.resolve(check()), 2_000)] as const;
        } catch {
          return [name, false] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.length > 0 && entries.every(([, ok]) => ok), checks };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

/**
 * What `/healthz` reports beside `status: ok` (liveness must stay cheap and never fail on a
 * dependency): e.g. the gateway's open connections and sessions.
 */
@Injectable()
export class HealthDetails {
  private readonly details = new Map<string, () => unknown>();

  register(name: string, detail: () => unknown): void {
    this.details.set(name, detail);
  }

  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.details].map(([name, detail]) => [name, detail()]));
  }
}

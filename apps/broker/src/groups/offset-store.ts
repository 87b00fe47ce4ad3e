/**
 * Committed consumer-group offsets, kept in `<data dir>/groups/offsets.jsonl`: one JSON line per
 * OffsetCommit, appended and fsynced (coalesced like produce appends) before the commit is
 * answered. At start the file is replayed (a torn last line is dropped) and rewritten compacted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '@hearth/runtime';

const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}
export interface OffsetCommitEntry extends CommittedOffset {
  topic: string;
  partition: number;
}

interface CommitLine {
  g: string;
  o: [topic: string, partition: number, offset: number, leaderEpoch: number, metadata: string | null][];
  /** The group's offsets were deleted (DeleteGroups). */
  deleted?: true;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class OffsetStore {
  private readonly groups = new Map<string, Map<string, CommittedOffset>>();
  private readonly file: string;
  private fd = -1;
  private size = 0;
  private pending: { line: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  private writing: Promise<void> | null = null;

  constructor(
    dataDir: string,
    private readonly fsync: boolean,
    private readonly log: Logger,
  ) {
    const dir = path.join(dataDir, 'groups');
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'offsets.jsonl');
  }

  load(): void {
    const text = fs.existsSync(this.file) ? fs.readFileSync(this.file, 'utf8') : '';
    let lines = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let parsed: CommitLine;
      try {
        parsed = JSON.parse(line) as CommitLine;
      } catch {
        this.log.warn({ file: this.file }, 'dropping torn last line of the offsets file');
        break;
      }
      lines++;
      this.apply(parsed);
    }
    // Rewrite compacted: one line per group, then append from there.
    const compacted = [...this.groups].map(([g, offsets]) =>
      JSON.stringify({
        g,
        o: [...offsets].map(([k, c]) => {
          const [topic, partition] = k.split('\u0000') as [string, string];
          return [topic, Number(partition), c.offset, c.leaderEpoch, c.metadata];
        }),
      } satisfies CommitLine),
    );
    const tmp = this.file + '.tmp';
    const body = compacted.map((l) => l + '\n').join('');
    fs.writeFileSync(tmp, body);
    const tmpFd = fs.openSync(tmp, 'r+');
    fs.fsyncSync(tmpFd);
    fs.closeSync(tmpFd);
    fs.renameSync(tmp, this.file);
    this.fd = fs.openSync(this.file, 'r+');
    this.size = Buffer.byteLength(body);
    this.log.info({ groups: this.groups.size, linesReplayed: lines }, 'committed offsets loaded');
  }

  private apply(line: CommitLine): void {
    if (line.deleted) {
      this.groups.delete(line.g);
      return;
    }
    let offsets = this.groups.get(line.g);
    if (!offsets) this.groups.set(line.g, (offsets = new Map()));
    for (const [topic, partition, offset, leaderEpoch, metadata] of line.o) {
      offsets.set(key(topic, partition), { offset, leaderEpoch, metadata });
    }
  }

  /** Visible at once; the promise resolves once the commit is durable. */
  commit(group: string, entries: readonly OffsetCommitEntry[]): Promise<void> {
    return this.append({ g: group, o: entries.map((e) => [e.topic, e.partition, e.offset, e.leaderEpoch, e.metadata]) });
  }

  /** Forgets every committed offset of a group (durably). */
  deleteGroup(group: string): Promise<void> {
    return this.append({ g: group, o: [], deleted: true });
  }

  private append(line: CommitLine): Promise<void> {
    this.apply(line);
    return new Promise((resolve, reject) => {
      this.pending.push({ line: JSON.stringify(line) + '\n', resolve, reject });
      this.writing ??= new Promise<void>((done) => setImmediate(() => void this.writeLoop().then(done)));
    });
  }

  private async writeLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const buf = Buffer.from(batch.map((p) => p.line).join(''));
        await write(this.fd, buf, 0, buf.length, this.size);
        this.size += buf.length;
        if (this.fsync) await fdatasync(this.fd);
        for (const p of batch) p.resolve();
      } catch (error) {
        this.log.error({ err: error }, 'offsets file write failed');
        for (const p of batch) p.reject(error as Error);
      }
    }
    this.writing = null;
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(group)?.get(key(topic, partition));
  }

  /** All committed offsets of a group, by topic and partition. */
  all(group: string): { topic: string; partition: number; committed: CommittedOffset }[] {
    return [...(this.groups.get(group) ?? [])].map(([k, committed]) => {
      const [topic, partition] = k.split('\u0000') as [string, string];
      return { topic, partition: Number(partition), committed };
    });
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  async close(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

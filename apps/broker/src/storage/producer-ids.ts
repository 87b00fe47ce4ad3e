/**
 * Producer ids for InitProducerId (idempotent producers), unique across restarts: blocks of ids
 * are reserved in `<data dir>/producer-ids` before any id of the block is handed out.
 */
import fs from 'node:fs';
import path from 'node:path';

const BLOCK = 1000;

export class ProducerIdAllocator {
  private next: number;
  private blockEnd: number;
  private readonly file: string;

  constructor(dataDir: string, atLeast: number) {
    this.file = path.join(dataDir, 'producer-ids');
    const stored = fs.existsSync(this.file) ? Number(fs.readFileSync(this.file, 'utf8').trim()) || 0 : 0;
    this.next = Math.max(stored, atLeast);
    this.blockEnd = this.next;
  }

  allocate(): number {
    if (this.next >= this.blockEnd) {
      this.blockEnd = this.next + BLOCK;
      const tmp = this.file + '.tmp';
      const fd = fs.openSync(tmp, 'w');
      fs.writeSync(fd, String(this.blockEnd));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(tmp, this.file);
    }
    return this.next++;
  }
}

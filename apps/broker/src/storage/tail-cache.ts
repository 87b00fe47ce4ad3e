/**
 * The most recently written batches of a partition, kept in memory so live consumers (who read
 * what was just produced) are served without a disk read: the fetch long-poll answers as soon as
 * the group commit completes. Bounded in bytes; older offsets are read from the segment files.
 */
export class TailCache {
  private bases: number[] = [];
  private lasts: number[] = [];
  private batches: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly limitBytes: number) {}

  /** Adds durable batches, in offset order. The buffer is copied: the request frame it came from can go. */
  add(baseOffset: number, lastOffset: number, batch: Buffer): void {
    if (this.limitBytes <= 0) return;
    this.bases.push(baseOffset);
    this.lasts.push(lastOffset);
    this.batches.push(Buffer.from(batch));
    this.bytes += batch.length;
    let drop = 0;
    while (this.bytes > this.limitBytes && drop < this.batches.length - 1) this.bytes -= this.batches[drop++]!.length;
    if (drop > 0) {
      this.bases = this.bases.slice(drop);
      this.lasts = this.lasts.slice(drop);
      this.batches = this.batches.slice(drop);
    }
  }

  /**
   * Whole batches from the one holding `offset`, up to maxBytes (at least one), or null when the
   * offset is older than the cache (read the segment instead).
   */
  read(offset: number, maxBytes: number): Buffer[] | null {
    if (this.bases.length === 0 || offset < this.bases[0]!) return null;
    let lo = 0;
    let hi = this.lasts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lasts[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    const out: Buffer[] = [];
    let total = 0;
    for (let i = lo; i < this.batches.length; i++) {
      const b = this.batches[i]!;
      if (out.length > 0 && total + b.length > maxBytes) break;
      out.push(b);
      total += b.length;
    }
    return out;
  }

  clear(): void {
    this.bases = [];
    this.lasts = [];
    this.batches = [];
    this.bytes = 0;
  }
}

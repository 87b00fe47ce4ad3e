/**
 * The in-memory offset index of one segment: one entry per stored record batch, in columns of
 * typed arrays (about 28 bytes a batch), so a fetch finds its batch with a binary search.
 */
export interface IndexEntry {
  /** Base offset relative to the segment's base offset. */
  relBase: number;
  lastDelta: number;
  position: number;
  size: number;
  maxTimestamp: number;
}

export class BatchIndex {
  count = 0;
  private relBase = new Uint32Array(64);
  private lastDelta = new Uint32Array(64);
  private position = new Uint32Array(64);
  private size = new Uint32Array(64);
  /** Running maximum of the batches' max timestamps: monotonic, so time lookups can bisect. */
  private maxTsSoFar = new Float64Array(64);

  push(e: IndexEntry): void {
    if (this.count === this.relBase.length) this.grow();
    const i = this.count++;
    this.relBase[i] = e.relBase;
    this.lastDelta[i] = e.lastDelta;
    this.position[i] = e.position;
    this.size[i] = e.size;
    this.maxTsSoFar[i] = i === 0 ? e.maxTimestamp : Math.max(this.maxTsSoFar[i - 1]!, e.maxTimestamp);
  }

  private grow(): void {
    const n = this.relBase.length * 2;
    const g = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.relBase = g(this.relBase, (k) => new Uint32Array(k));
    this.lastDelta = g(this.lastDelta, (k) => new Uint32Array(k));
    this.position = g(this.position, (k) => new Uint32Array(k));
    this.size = g(this.size, (k) => new Uint32Array(k));
    this.maxTsSoFar = g(this.maxTsSoFar, (k) => new Float64Array(k));
  }

  truncate(count: number): void {
    this.count = Math.min(this.count, count);
  }

  relBaseAt(i: number): number {
    return this.relBase[i]!;
  }
  relLastAt(i: number): number {
    return this.relBase[i]! + this.lastDelta[i]!;
  }
  positionAt(i: number): number {
    return this.position[i]!;
  }
  sizeAt(i: number): number {
    return this.size[i]!;
  }
  maxTimestampSoFar(i: number): number {
    return this.maxTsSoFar[i]!;
  }

  /** First entry whose last offset is >= rel (count if none). */
  findByOffset(rel: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relBase[mid]! + this.lastDelta[mid]! < rel) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First entry whose running max timestamp is >= ts (count if none). */
  findByTimestamp(ts: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.maxTsSoFar[mid]! < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

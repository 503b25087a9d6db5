/**
 * Counts over a sliding time window, kept as a ring of buckets (each `durationMs / buckets`
 * wide). Moving to a new bucket clears the ones that fell out of the window, so every call is
 * O(1) amortised (at most `buckets` steps after a long idle), and no timer is needed: time is
 * only read from the `now` the caller passes. Three counters per bucket serve both the circuit
 * breaker (calls, failures, slow calls) and adaptive throttling (requests, accepts, successes).
 * The arrays are allocated on first use, so an idle owner costs a few fields.
 */
export class TimeBuckets {
  /** Sums over the live buckets. */
  a = 0;
  b = 0;
  c = 0;
  private counts: Float64Array | undefined;
  /** Absolute index (`floor(now / width)`) of the newest bucket. */
  private head = 0;

  private readonly widthMs: number;

  constructor(
    readonly durationMs: number,
    readonly buckets: number,
  ) {
    this.widthMs = durationMs / buckets;
  }

  /** Drops the buckets that are older than the window at `now`. */
  advance(now: number): void {
    const index = Math.floor(now / this.widthMs);
    const counts = this.counts;
    if (counts === undefined) {
      this.counts = new Float64Array(this.buckets * 3);
      this.head = index;
      return;
    }
    if (index <= this.head) return; // same bucket (or a clock that did not move)
    const gap = index - this.head;
    if (gap >= this.buckets) {
      counts.fill(0);
      this.a = this.b = this.c = 0;
    } else {
      for (let step = 1; step <= gap; step++) {
        const at = this.slot(this.head + step) * 3;
        this.a -= counts[at]!;
        this.b -= counts[at + 1]!;
        this.c -= counts[at + 2]!;
        counts[at] = counts[at + 1] = counts[at + 2] = 0;
      }
    }
    this.head = index;
  }

  /** Adds to the bucket of `now` (after dropping expired buckets). */
  add(now: number, a: number, b: number, c: number): void {
    this.advance(now);
    const counts = this.counts!;
    const at = this.slot(this.head) * 3;
    counts[at]! += a;
    counts[at + 1]! += b;
    counts[at + 2]! += c;
    this.a += a;
    this.b += b;
    this.c += c;
  }

  clear(): void {
    this.counts?.fill(0);
    this.a = this.b = this.c = 0;
  }

  private slot(index: number): number {
    const slot = index % this.buckets;
    return slot < 0 ? slot + this.buckets : slot;
  }
}

/**
 * A streaming histogram of non-negative values (latencies, cycles per packet): exact
 * below 2,048, then 64 buckets per power of two (within 1.6 % of the value), so that
 * percentiles of any number of packets take fixed memory. Mean and maximum are exact.
 */
export interface HistogramState {
  readonly count: number;
  /** The sum of the values in thousandths: sumHigh · 2^40 + sumLow (sumLow below 2^40). */
  readonly sumHigh: number;
  readonly sumLow: number;
  readonly max: number;
  readonly counts: readonly (readonly [number, number])[];
}

const EXACT = 2048;
const SUB = 64;
const EXACT_BITS = 11;

/** The unit of the sum's high part. */
const LOW_UNIT = 2 ** 40;

/** Buckets kept in an array (values below 2^40); the rest, never met in practice, in a map. */
const DENSE = EXACT + (40 - EXACT_BITS) * SUB;

export class Histogram {
  count = 0;
  /**
   * The sum in thousandths, as two integers (high: units of 2^40; low: below 2^40), so that
   * it stays exact — and the mean the same whatever the order values are added or merged
   * in — far past 2^53 thousandths (a billion packets of a millisecond each).
   */
  private sumHigh = 0;
  private sumLow = 0;
  max = 0;
  private readonly dense = new Float64Array(DENSE);
  private readonly sparse = new Map<number, number>();

  add(v: number): void {
    this.count++;
    this.addMilli(Math.round(v * 1000));
    if (v > this.max) this.max = v;
    this.bump(Histogram.bucket(v), 1);
  }

  /** Another histogram's values added to this one's. */
  merge(o: HistogramState): void {
    this.count += o.count;
    this.sumHigh += o.sumHigh;
    this.addMilli(o.sumLow);
    this.max = Math.max(this.max, o.max);
    for (const [b, n] of o.counts) this.bump(b, n);
  }

  /** Everything it holds, as plain data (to send from a worker thread). */
  state(): HistogramState {
    return { count: this.count, sumHigh: this.sumHigh, sumLow: this.sumLow, max: this.max, counts: this.counts() };
  }

  get mean(): number {
    return this.count === 0 ? 0 : (this.sumHigh * LOW_UNIT + this.sumLow) / 1000 / this.count;
  }

  /** m thousandths (an integer) added to the sum, its low part carried into the high one. */
  private addMilli(m: number): void {
    this.sumLow += m;
    if (this.sumLow >= LOW_UNIT) {
      const carry = Math.floor(this.sumLow / LOW_UNIT);
      this.sumHigh += carry;
      this.sumLow -= carry * LOW_UNIT;
    }
  }

  private bump(b: number, n: number): void {
    if (b < DENSE) this.dense[b]! += n;
    else this.sparse.set(b, (this.sparse.get(b) ?? 0) + n);
  }

  /** The buckets holding values, in order, with their counts. */
  private counts(): [number, number][] {
    const out: [number, number][] = [];
    this.dense.forEach((n, b) => n > 0 && out.push([b, n]));
    return out.concat([...this.sparse].sort((x, y) => x[0] - y[0]));
  }

  /** The value at percentile p (0–100): the upper edge of its bucket, never above the maximum. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const [b, n] of this.counts()) {
      seen += n;
      if (seen >= rank) return Math.min(this.max, Histogram.upper(b));
    }
    return this.max;
  }

  /** Buckets in order: their lower edge, upper edge and count (for charts). */
  buckets(): { lo: number; hi: number; n: number }[] {
    return this.counts().map(([b, n]) => ({ lo: Histogram.lower(b), hi: Histogram.upper(b), n }));
  }

  private static bucket(v: number): number {
    if (v < EXACT) return Math.floor(v);
    // The power of two at or below v: from its integer part's leading zeros while that fits 32 bits.
    const e = v < 2 ** 32 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
    const sub = Math.min(SUB - 1, Math.floor((v / 2 ** e - 1) * SUB));
    return EXACT + (e - EXACT_BITS) * SUB + sub;
  }

  private static lower(b: number): number {
    if (b < EXACT) return b;
    const e = Math.floor((b - EXACT) / SUB) + EXACT_BITS;
    return 2 ** e * (1 + ((b - EXACT) % SUB) / SUB);
  }

  private static upper(b: number): number {
    return b < EXACT ? b + 1 : Histogram.lower(b + 1);
  }
}

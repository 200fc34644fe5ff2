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

/** A histogram's cells: count, sum high, sum low, max, then the dense buckets (the timing core keeps its own in this layout). */
const C_COUNT = 0;
const C_SUM_HIGH = 1;
const C_SUM_LOW = 2;
const C_MAX = 3;
const C_FIELDS = 4;
/** The number of cells a histogram keeps. */
export const HISTOGRAM_CELLS = C_FIELDS + DENSE;

export class Histogram {
  /**
   * The sum is kept in thousandths, as two integers (high: units of 2^40; low: below
   * 2^40), so that it stays exact — and the mean the same whatever the order values are
   * added or merged in — far past 2^53 thousandths (a billion packets of a millisecond
   * each). Count, sum and maximum are exact; `cells` gives them and the buckets.
   */
  private readonly own: Float64Array | undefined;
  private readonly sparse = new Map<number, number>();

  /** `external`: the cells where another keeps them (the timing core's memory, read fresh each time), or the histogram's own. */
  constructor(private readonly external?: () => Float64Array) {
    this.own = external ? undefined : new Float64Array(HISTOGRAM_CELLS);
  }

  private get cells(): Float64Array {
    return this.own ?? this.external!();
  }

  get count(): number {
    return this.cells[C_COUNT]!;
  }

  get max(): number {
    return this.cells[C_MAX]!;
  }

  /** A bucket beyond the dense ones counted once more (the timing core tells of these). */
  countSparse(b: number): void {
    this.bump(b, 1);
  }

  add(v: number): void {
    const c = this.cells;
    c[C_COUNT]!++;
    this.addMilli(c, Math.round(v * 1000));
    if (v > c[C_MAX]!) c[C_MAX] = v;
    this.bump(Histogram.bucket(v), 1);
  }

  /** Another histogram's values added to this one's. */
  merge(o: HistogramState): void {
    const c = this.cells;
    c[C_COUNT]! += o.count;
    c[C_SUM_HIGH]! += o.sumHigh;
    this.addMilli(c, o.sumLow);
    c[C_MAX] = Math.max(c[C_MAX]!, o.max);
    for (const [b, n] of o.counts) this.bump(b, n);
  }

  /** Everything it holds, as plain data (to send from a worker thread). */
  state(): HistogramState {
    const c = this.cells;
    return { count: c[C_COUNT]!, sumHigh: c[C_SUM_HIGH]!, sumLow: c[C_SUM_LOW]!, max: c[C_MAX]!, counts: this.counts() };
  }

  get mean(): number {
    const c = this.cells;
    return c[C_COUNT] === 0 ? 0 : (c[C_SUM_HIGH]! * LOW_UNIT + c[C_SUM_LOW]!) / 1000 / c[C_COUNT]!;
  }

  /** m thousandths (an integer) added to the sum, its low part carried into the high one. */
  private addMilli(c: Float64Array, m: number): void {
    let low = c[C_SUM_LOW]! + m;
    if (low >= LOW_UNIT) {
      const carry = Math.floor(low / LOW_UNIT);
      c[C_SUM_HIGH]! += carry;
      low -= carry * LOW_UNIT;
    }
    c[C_SUM_LOW] = low;
  }

  private bump(b: number, n: number): void {
    // A negative value's bucket counts nowhere.
    if (b >= DENSE) this.sparse.set(b, (this.sparse.get(b) ?? 0) + n);
    else if (b >= 0) this.cells[C_FIELDS + b]! += n;
  }

  /** The buckets holding values, in order, with their counts. */
  private counts(): [number, number][] {
    const out: [number, number][] = [];
    const c = this.cells;
    for (let b = 0; b < DENSE; b++) if (c[C_FIELDS + b]! > 0) out.push([b, c[C_FIELDS + b]!]);
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

  /** The bucket a value falls in (the timing core computes the same: test/nic-timing/timing-core.test.ts). */
  static bucket(v: number): number {
    if (v < EXACT) return Math.floor(v);
    // The power of two at or below v, exactly: 32 at a time, then the leading zeros of what is left.
    let e = 0;
    let x = v;
    while (x >= 2 ** 32) {
      x /= 2 ** 32;
      e += 32;
    }
    e += 31 - Math.clz32(x);
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

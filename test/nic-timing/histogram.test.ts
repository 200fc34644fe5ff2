import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram } from '../../nic-sim/timing/histogram.js';

/** Values as latencies in ns and cycle counts are. */
const value = fc.oneof(
  fc.integer({ min: 0, max: 3000 }),
  fc.double({ min: 0, max: 5000, noNaN: true }),
  fc.double({ min: 2048, max: 2 ** 32, noNaN: true }),
);
/** Values past the histogram's array of buckets (2^40 and up), kept apart. */
const huge = fc.double({ min: 2 ** 40, max: 2 ** 50, noNaN: true });

describe('the streaming histogram (property)', () => {
  it('a percentile is the upper edge of the bucket holding the value at that rank: within 1/64 above it, never above the maximum', () => {
    fc.assert(fc.property(fc.array(fc.oneof(value, huge), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 100 }), (vs, p) => {
      const h = new Histogram();
      vs.forEach((v) => h.add(v));
      const sorted = [...vs].sort((a, b) => a - b);
      const exact = sorted[Math.max(1, Math.ceil((p / 100) * vs.length)) - 1]!;
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got).toBeLessThanOrEqual(Math.min(sorted.at(-1)!, exact < 2048 ? Math.floor(exact) + 1 : exact * (1 + 1 / 64)));
      expect(h.count).toBe(vs.length);
      expect(h.max).toBe(sorted.at(-1));
      const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
      expect(Math.abs(h.mean - mean)).toBeLessThanOrEqual(Math.max(1e-3, mean * 1e-12));
      expect(h.buckets().reduce((n, b) => n + b.n, 0)).toBe(vs.length);
    }), { numRuns: 300, seed: 41 });
  });

  it('the mean of very many long latencies is the same whatever order they are added or merged in', () => {
    // 3 × 10^6 values near 10^7 ns: a sum of 3 × 10^16 thousandths, past 2^53.
    const values = Array.from({ length: 3000 }, (_, k) => 1e7 + k * 0.731);
    const parts = [new Histogram(), new Histogram(), new Histogram()];
    const one = new Histogram();
    for (let r = 0; r < 1000; r++) values.forEach((v, k) => { one.add(v); parts[(k + r) % 3]!.add(v); });
    const merged = new Histogram();
    for (const p of [parts[2]!, parts[0]!, parts[1]!]) merged.merge(p.state());
    expect(merged.state()).toEqual(one.state());
    expect(merged.mean).toBe(one.mean);
    expect(one.mean).toBeCloseTo(1e7 + 2999 * 0.731 / 2, 3);
  });

  it('merging the states of two histograms gives the histogram of all their values', () => {
    fc.assert(fc.property(fc.array(value, { maxLength: 100 }), fc.array(value, { maxLength: 100 }), (xs, ys) => {
      const a = new Histogram();
      const b = new Histogram();
      const all = new Histogram();
      xs.forEach((v) => (a.add(v), all.add(v)));
      ys.forEach((v) => (b.add(v), all.add(v)));
      a.merge(b.state());
      expect(a.state()).toEqual(all.state());
    }), { numRuns: 200, seed: 42 });
  });
});

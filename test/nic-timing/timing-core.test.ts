/**
 * The timing core (WebAssembly, nic-sim/timing/assembly/timing-core.ts) against the
 * JavaScript it must agree with to the bit: its histograms against histogram.ts fed the
 * same values (buckets, the exact sum, maximum, values of 2^40 and more told back to
 * JavaScript). Its engines are held to a plain model of the rules in engine.test.ts, and
 * whole replays to the host engine in test/nic-replay.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { CardTiming } from '../../nic-sim/timing/card-timing.js';
import { cycleTable } from '../../nic-sim/timing/cycle-table.js';
import { Histogram } from '../../nic-sim/timing/histogram.js';
import { EngineBank } from '../../nic-sim/timing/engine.js';
import { TimingCore } from '../../nic-sim/timing/timing-core.js';
import { XdpError } from '../../xdp/errors.js';

/** Values around every power of two a histogram meets, and anywhere between. */
const anyValue = fc.oneof(
  fc.double({ min: 0, max: 2 ** 60, noNaN: true }),
  fc.integer({ min: 0, max: 62 }).chain((e) => fc.constantFrom(2 ** e, 2 ** e * (1 - 2 ** -53), 2 ** e * (1 + 2 ** -52), 2 ** e * (1 + 1 / 64))),
  fc.double({ min: 0, max: 5000, noNaN: true }),
);

describe('the timing core', () => {
  it('puts every value in the bucket histogram.ts puts it in', () => {
    const core = new TimingCore();
    fc.assert(fc.property(anyValue, (v) => {
      expect(core.x.bucketOf(v)).toBe(Histogram.bucket(v));
    }), { numRuns: 5000, seed: 12 });
  });

  it('its histograms hold what histogram.ts holds for the same values: counts per bucket, exact sum, maximum, and the buckets past 2^40', () => {
    const { profile } = resolveProfile('nfp-4000');
    fc.assert(fc.property(fc.array(anyValue, { minLength: 1, maxLength: 200 }), (vs) => {
      const ct = new CardTiming(profile.timing, cycleTable(profile.timing), 1);
      const own = new Histogram();
      for (const v of vs) {
        (ct as unknown as { core: TimingCore }).core.x.cardRecord(0, v);
        own.add(v);
      }
      expect(ct.latencyNs.state()).toEqual(own.state());
      expect(ct.latencyNs.mean).toBe(own.mean);
      expect(ct.latencyNs.percentile(99)).toBe(own.percentile(99));
      expect(ct.cyclesPerPacket.count).toBe(0);
    }), { numRuns: 200, seed: 7 });
  });

  it('carries the sum of very many large values into its high part as histogram.ts does', () => {
    const { profile } = resolveProfile('nfp-4000');
    const ct = new CardTiming(profile.timing, cycleTable(profile.timing), 1);
    const own = new Histogram();
    for (let k = 0; k < 5000; k++) {
      const v = 3e9 + k * 1234.5678;
      (ct as unknown as { core: TimingCore }).core.x.cardRecord(1, v);
      own.add(v);
    }
    expect(own.state().sumHigh).toBeGreaterThan(0);
    expect(ct.cyclesPerPacket.state()).toEqual(own.state());
  });

  it('stops with a message, not a crash, when a bank would outgrow WebAssembly\'s 4 GiB (slots widened for a packet of many segments)', () => {
    // 20,000 engines of 64 threads and 64 queue places: about 390 MB at first, 6.3 GB once every slot holds 301 segments.
    const bank = new EngineBank(20000, 64, 64, () => {});
    const push = () => bank.push(0, 1, 0, 0, 0, 0, 0, new Array<number>(301).fill(10));
    expect(push).toThrow(XdpError);
    expect(push).toThrow(/engine state outgrew the memory it can have \(WebAssembly's 4 GiB at most\)/);
  });
});

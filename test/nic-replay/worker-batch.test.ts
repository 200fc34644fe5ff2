import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DROPPED_FULL_QUEUE, OutcomeBatchBuilder, PacketBatchBuilder, buffersOf } from '../../nic-sim/replay/worker-batch.js';

describe('the packed messages of a sharded card replay (property)', () => {
  it('a batch of packets and a batch of outcomes give back what was put in, whatever their sizes', () => {
    const packet = fc.record({ index: fc.nat(1e9), data: fc.uint8Array({ maxLength: 3000 }), engine: fc.nat(63), t: fc.double({ min: 0, max: 1e12, noNaN: true }), origLen: fc.nat(70000) });
    const outcome = fc.option(fc.record({
      action: fc.nat(4), bytes: fc.uint8Array({ maxLength: 2000 }), error: fc.option(fc.string(), { nil: undefined }),
      compute: fc.nat(1e6), segs: fc.array(fc.nat(1e5), { minLength: 1, maxLength: 300 }),
    }), { nil: undefined });
    fc.assert(fc.property(fc.array(packet, { maxLength: 60 }), fc.array(outcome, { maxLength: 60 }), (packets, outcomes) => {
      const pb = new PacketBatchBuilder();
      packets.forEach((p) => pb.add(p.index, p.data, p.engine, p.t, p.origLen));
      const b = pb.build();
      expect(b.count).toBe(packets.length);
      packets.forEach((p, k) => {
        expect([b.index[k], b.engine[k], b.t[k], b.origLen[k]]).toEqual([p.index, p.engine, p.t, p.origLen]);
        expect(b.bytes.subarray(b.offset[k], b.offset[k + 1])).toEqual(p.data);
      });
      const ob = new OutcomeBatchBuilder(outcomes.length);
      for (const o of outcomes) {
        if (o === undefined) ob.dropped();
        else ob.ran(o.action, o.bytes, o.error, o.compute, o.segs, o.segs.length);
      }
      const r = ob.build();
      const errors = new Map(r.errors);
      outcomes.forEach((o, k) => {
        if (o === undefined) {
          expect(r.action[k]).toBe(DROPPED_FULL_QUEUE);
          return;
        }
        expect([r.action[k], r.compute[k], errors.get(k)]).toEqual([o.action, o.compute, o.error]);
        expect(r.bytes.subarray(r.offset[k], r.offset[k + 1])).toEqual(o.bytes);
        expect([...r.segs.subarray(r.segOffset[k], r.segOffset[k + 1])]).toEqual(o.segs);
      });
      // Every buffer is the message's own, so that it can be transferred.
      expect(new Set(buffersOf(r)).size).toBe(6);
      expect(new Set(buffersOf(b)).size).toBe(6);
    }), { numRuns: 150, seed: 23 });
  });
});

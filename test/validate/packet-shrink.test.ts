/**
 * The packet shrinker of `offload validate`: it reaches the minimal failing
 * packet for simple predicates, never asks more than its budget, keeps only
 * failing candidates, and is deterministic.
 */
import { describe, expect, it } from 'vitest';
import { createPacketGenerator } from '../../offload/validate/packet-gen.js';
import { shrinkPacket } from '../../offload/validate/packet-shrink.js';

const hex = (p: Uint8Array): string => Buffer.from(p).toString('hex');

/** A big generated packet with byte 23 set to 6 (IPv4 protocol TCP behind a plain Ethernet header). */
function bigPacket(seed: number): Uint8Array {
  const g = createPacketGenerator({ seed });
  for (;;) {
    const p = g.next();
    if (p.length >= 600) {
      p[23] = 6;
      return p;
    }
  }
}

describe('shrinkPacket', () => {
  it('finds the minimal packet for "byte 23 is 6 and length >= 34"', () => {
    const fails = (p: Uint8Array): boolean => p.length >= 34 && p[23] === 6;
    for (const seed of [1, 2, 3]) {
      const start = bigPacket(seed);
      const { packet, tries } = shrinkPacket(start, fails);
      const want = new Uint8Array(34);
      want[23] = 6;
      expect(hex(packet)).toBe(hex(want));
      expect(tries).toBeGreaterThan(0);
      expect(tries).toBeLessThan(400);
    }
  });

  it('does not modify its input and passes copies to the predicate', () => {
    const start = bigPacket(4);
    const before = hex(start);
    shrinkPacket(start, (p) => {
      const ok = p.length >= 34 && p[23] === 6;
      p.fill(0xee); // a predicate that scribbles must not hurt
      return ok;
    });
    expect(hex(start)).toBe(before);
  });

  it('removes chunks from the middle', () => {
    const start = new Uint8Array(300).map((_, i) => (i * 7 + 1) & 0xff);
    start.set([0xde, 0xad], 150);
    const contains = (p: Uint8Array): boolean => {
      for (let i = 0; i + 1 < p.length; i++) if (p[i] === 0xde && p[i + 1] === 0xad) return true;
      return false;
    };
    const { packet } = shrinkPacket(start, contains);
    expect(hex(packet)).toBe('dead');
  });

  it('zeroes what it cannot cut', () => {
    const start = new Uint8Array(64).fill(0xff);
    // Fails whenever the length is exactly 64 and byte 10 is odd.
    const { packet } = shrinkPacket(start, (p) => p.length === 64 && (p[10]! & 1) === 1);
    const want = new Uint8Array(64);
    want[10] = 0xff;
    expect(hex(packet)).toBe(hex(want));
  });

  it('may shrink to the empty packet', () => {
    const { packet, tries } = shrinkPacket(bigPacket(5), () => true);
    expect(packet.length).toBe(0);
    expect(tries).toBe(1);
  });

  it('respects maxTries and returns only failing packets', () => {
    for (const maxTries of [0, 1, 5, 10, 37]) {
      let calls = 0;
      const seenFailing: string[] = [];
      const fails = (p: Uint8Array): boolean => {
        calls++;
        const f = p.length >= 34 && p[23] === 6;
        if (f) seenFailing.push(hex(p));
        return f;
      };
      const start = bigPacket(6);
      const { packet, tries } = shrinkPacket(start, fails, { maxTries });
      expect(tries).toBe(calls);
      expect(calls).toBeLessThanOrEqual(maxTries);
      if (maxTries === 0) expect(hex(packet)).toBe(hex(start));
      else expect([hex(start), ...seenFailing]).toContain(hex(packet));
      if (maxTries >= 10) expect(packet.length).toBeLessThan(start.length);
      expect(packet.length >= 34 && packet[23] === 6).toBe(true);
    }
    // The default budget is 2000 calls: a predicate nothing smaller satisfies would take more.
    let calls = 0;
    const start = new Uint8Array(1514).fill(1);
    const { packet, tries } = shrinkPacket(start, () => {
      calls++;
      return false;
    });
    expect(calls).toBe(2000);
    expect(tries).toBe(2000);
    expect(hex(packet)).toBe(hex(start));
  });

  it('is deterministic', () => {
    const fails = (p: Uint8Array): boolean => p.length >= 40 && (p[12]! ^ p[30]!) !== 0;
    const a = shrinkPacket(bigPacket(7), fails);
    const b = shrinkPacket(bigPacket(7), fails);
    expect(hex(b.packet)).toBe(hex(a.packet));
    expect(b.tries).toBe(a.tries);
    expect(fails(a.packet)).toBe(true);
    expect(a.packet.length).toBe(40);
    expect(a.packet.filter((x) => x !== 0).length).toBe(1);
  });

  it('never asks about the same candidate twice', () => {
    const asked = new Set<string>();
    let repeats = 0;
    shrinkPacket(bigPacket(8), (p) => {
      const k = hex(p);
      if (asked.has(k)) repeats++;
      asked.add(k);
      return p.length >= 20 && p[3] === p[4];
    });
    expect(repeats).toBe(0);
  });
});

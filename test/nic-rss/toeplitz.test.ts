/**
 * The Toeplitz RSS hash (nic-sim/rss/toeplitz.ts) against the published verification
 * suite (Microsoft "Verifying the RSS Hash Calculation"; Intel 82599 datasheet
 * §7.1.2.8.3): every IPv4 flow with and without its ports, two IPv6 flows with ports;
 * the table form against the bit-by-bit definition on random keys and inputs; and
 * hashAt, the fields read where they lie in a buffer, against hash of rssInput.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RSS_VERIFICATION_KEY, Toeplitz, rssInput } from '../../nic-sim/rss/toeplitz.js';

const v4 = (s: string): Uint8Array => Uint8Array.from(s.split('.').map(Number));
function v6(s: string): Uint8Array {
  const [head, tail] = s.split('::') as [string, string | undefined];
  const words = (x: string | undefined) => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return Uint8Array.from(all.flatMap((w) => [w >> 8, w & 0xff]));
}

// (source, destination, source port, destination port, hash of the addresses, hash with the ports)
const IPV4: readonly [string, string, number, number, number, number][] = [
  ['66.9.149.187', '161.142.100.80', 2794, 1766, 0x323e8fc2, 0x51ccc178],
  ['199.92.111.2', '65.69.140.83', 14230, 4739, 0xd718262a, 0xc626b0ea],
  ['24.19.198.95', '12.22.207.184', 12898, 38024, 0xd2d0a5de, 0x5c2b394a],
  ['38.27.205.30', '209.142.163.6', 48228, 2217, 0x82989176, 0xafc7327f],
  ['153.39.163.191', '202.188.127.2', 44251, 1303, 0x5d1809c5, 0x10e828a2],
];
const IPV6: readonly [string, string, number, number, number][] = [
  ['3ffe:2501:200:1fff::7', '3ffe:2501:200:3::1', 2794, 1766, 0x40207d3d],
  ['3ffe:501:8::260:97ff:fe40:efab', 'ff02::1', 14230, 4739, 0xdde51bbf],
];

/** The definition, bit by bit. */
function reference(key: Uint8Array, input: Uint8Array): number {
  let h = 0;
  for (let bit = 0; bit < 8 * input.length; bit++) {
    if (!((input[bit >> 3]! >> (7 - (bit & 7))) & 1)) continue;
    let w = 0;
    for (let k = 0; k < 32; k++) w = (w << 1) | ((key[(bit + k) >> 3]! >> (7 - ((bit + k) & 7))) & 1);
    h ^= w;
  }
  return h >>> 0;
}

describe('Toeplitz RSS hash', () => {
  const rss = new Toeplitz(RSS_VERIFICATION_KEY);
  it.each(IPV4)('IPv4 %s → %s', (src, dst, sport, dport, l3, l4) => {
    expect(rss.hash(rssInput(v4(src), v4(dst)))).toBe(l3);
    expect(rss.hash(rssInput(v4(src), v4(dst), { src: sport, dst: dport }))).toBe(l4);
  });
  it.each(IPV6)('IPv6 %s → %s', (src, dst, sport, dport, l4) => {
    expect(rss.hash(rssInput(v6(src), v6(dst), { src: sport, dst: dport }))).toBe(l4);
  });
  it('the tables give the bit-by-bit definition on random keys and inputs', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.uint8Array({ minLength: 0, maxLength: 36 }), (key, input) => {
      expect(new Toeplitz(key).hash(input)).toBe(reference(key, input));
    }), { numRuns: 300 });
  });
  it('hashAt: the fields where they lie give the hash of their input', () => {
    const v4Flow = Uint8Array.from([0, 0, ...v4('66.9.149.187'), ...v4('161.142.100.80'), 9, 0x0a, 0xea, 0x06, 0xe6]);
    expect(rss.hashAt(v4Flow, 2, 4, 11)).toBe(0x51ccc178);
    expect(rss.hashAt(v4Flow, 2, 4, -1)).toBe(0x323e8fc2);
    const field = fc.record({ addrLen: fc.constantFrom(4, 16), addrsAt: fc.nat(40), portsAt: fc.oneof(fc.constant(-1), fc.nat(40)) });
    fc.assert(fc.property(fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.uint8Array({ minLength: 80, maxLength: 80 }), field, (key, buf, { addrLen, addrsAt, portsAt }) => {
      const at = (x: number) => (buf[x]! << 8) | buf[x + 1]!;
      const ports = portsAt < 0 ? undefined : { src: at(portsAt), dst: at(portsAt + 2) };
      const input = rssInput(buf.subarray(addrsAt, addrsAt + addrLen), buf.subarray(addrsAt + addrLen, addrsAt + 2 * addrLen), ports);
      const t = new Toeplitz(key);
      expect(t.hashAt(buf, addrsAt, addrLen, portsAt)).toBe(t.hash(input));
    }), { seed: 36, numRuns: 300 });
  });
  it('refuses what it cannot hash, by what is wrong', () => {
    // A 15-byte key hashes 11 input bytes: IPv4 addresses (8), not with the ports (12).
    const short = new Toeplitz(new Uint8Array(15));
    expect(short.hashAt(new Uint8Array(40), 0, 4, -1)).toBe(0);
    expect(() => short.hashAt(new Uint8Array(40), 0, 4, 8)).toThrow(/12 bytes is longer than the key allows \(11\)/);
    expect(() => new Toeplitz(new Uint8Array(4))).toThrow(/at least 5 bytes/);
    expect(() => rss.hash(new Uint8Array(37))).toThrow(/37 bytes is longer than the key allows \(36\)/);
    expect(() => rssInput(new Uint8Array(4), new Uint8Array(16))).toThrow(/not 4 and 16/);
  });
});

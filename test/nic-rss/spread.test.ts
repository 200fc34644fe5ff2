/**
 * RSS over whole frames (nic-sim/rss/flow-key.ts, spread.ts): the flow a frame hashes
 * — held to the verification suite's values through Ethernet, VLAN, IPv4, IPv6, TCP and
 * UDP headers built by the project's packet builders — the cases that hash addresses only
 * (fragments, other protocols, ports cut off), frames with no flow, truncation and noise
 * (never an exception), and the indirection table spreading flows over the queues.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RSS_VERIFICATION_KEY } from '../../nic-sim/rss/toeplitz.js';
import { rssFlow } from '../../nic-sim/rss/flow-key.js';
import { RSS_TABLE_SIZE, RssSpreader } from '../../nic-sim/rss/spread.js';
import { ETHERTYPE, IPPROTO, arp, concatBytes, ethernet, ipv4, ipv6, tcp, udp } from '../../offload/validate/packet-headers.js';

const MAC = [2, 0, 0, 0, 0, 1];
const v4 = (s: string): number => s.split('.').reduce((n, b) => n * 256 + Number(b), 0);
const eth = (etherType: number, tags = 0) => ethernet({ dst: MAC, src: MAC, etherType, tags: Array.from({ length: tags }, (_, i) => ({ tpid: i === 0 && tags === 2 ? 0x88a8 : 0x8100, vid: 10 + i })) });
const tcp4 = (fields: { flags?: number; fragOffset?: number } = {}, tags = 0) =>
  concatBytes(eth(ETHERTYPE.IPV4, tags), ipv4({ protocol: IPPROTO.TCP, src: v4('66.9.149.187'), dst: v4('161.142.100.80'), ...fields }, tcp({ srcPort: 2794, dstPort: 1766, flags: 0x02 })));
const V6_SRC = [0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 7];
const V6_DST = [0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 1];

describe('RSS flows of frames', () => {
  const rss = new RssSpreader(RSS_VERIFICATION_KEY, 4);

  it('IPv4 TCP hashes the 4-tuple, behind none, one or two VLAN tags', () => {
    for (const tags of [0, 1, 2]) {
      expect(rssFlow(tcp4({}, tags))?.kind).toBe('ipv4-l4');
      expect(rss.hashOf(tcp4({}, tags))).toBe(0x51ccc178);
    }
  });

  it('IPv4 fragments and other protocols hash the addresses', () => {
    expect(rss.hashOf(tcp4({ flags: 1 }))).toBe(0x323e8fc2); // MF
    expect(rss.hashOf(tcp4({ fragOffset: 100 }))).toBe(0x323e8fc2);
    expect(rss.hashOf(tcp4({ flags: 2 }))).toBe(0x51ccc178); // DF only: not a fragment
    const icmp = concatBytes(eth(ETHERTYPE.IPV4), ipv4({ protocol: IPPROTO.ICMP, src: v4('66.9.149.187'), dst: v4('161.142.100.80') }, new Uint8Array(8)));
    expect(rssFlow(icmp)?.kind).toBe('ipv4');
    expect(rss.hashOf(icmp)).toBe(0x323e8fc2);
    // The ports cut off: the addresses.
    expect(rss.hashOf(tcp4().subarray(0, 14 + 20 + 3))).toBe(0x323e8fc2);
  });

  it('IPv6 UDP hashes the 4-tuple', () => {
    const frame = concatBytes(eth(ETHERTYPE.IPV6), ipv6({ nextHeader: IPPROTO.UDP, src: V6_SRC, dst: V6_DST }, udp({ srcPort: 2794, dstPort: 1766 })));
    expect(rssFlow(frame)?.kind).toBe('ipv6-l4');
    expect(rss.hashOf(frame)).toBe(0x40207d3d);
  });

  it('frames with no flow: ARP, short or broken IP headers — queue 0', () => {
    const arpFrame = concatBytes(eth(ETHERTYPE.ARP), arp({ op: 1, sha: MAC, spa: 1, tha: MAC, tpa: 2 }));
    for (const f of [arpFrame, tcp4().subarray(0, 14 + 19), new Uint8Array(13), new Uint8Array(0)]) {
      expect(rssFlow(f)).toBeUndefined();
      expect(rss.queueOf(f)).toBe(0);
    }
    const badIhl = tcp4();
    badIhl[14] = 0x44; // IHL 4: under 20 bytes
    expect(rssFlow(badIhl)).toBeUndefined();
  });

  it('every prefix of a frame and random bytes: a flow or none, never an exception', () => {
    const frame = tcp4({}, 2);
    for (let n = 0; n <= frame.length; n++) expect(() => rss.queueOf(frame.subarray(0, n))).not.toThrow();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const q = rss.queueOf(bytes);
      expect(q >= 0 && q < 4).toBe(true);
    }), { numRuns: 2000 });
  });

  it('the indirection table: entry i is queue i mod n (the kernel default), indexed by the low bits of the hash', () => {
    for (const queues of [1, 3, 4, 16]) {
      const spread = new RssSpreader(RSS_VERIFICATION_KEY, queues);
      const seen = new Array<number>(queues).fill(0);
      for (let port = 1000; port < 1400; port++) {
        const frame = concatBytes(eth(ETHERTYPE.IPV4), ipv4({ protocol: IPPROTO.UDP, src: v4('10.0.0.1'), dst: v4('10.0.0.2') }, udp({ srcPort: port, dstPort: 53 })));
        const q = spread.queueOf(frame);
        expect(q).toBe((spread.hashOf(frame)! & (RSS_TABLE_SIZE - 1)) % queues);
        seen[q]!++;
      }
      // 400 flows reach every queue.
      expect(seen.every((n) => n > 0)).toBe(true);
    }
    expect(() => new RssSpreader(RSS_VERIFICATION_KEY, 0)).toThrow(/at least one queue/);
    expect(() => new RssSpreader(RSS_VERIFICATION_KEY, 2, 100)).toThrow(/power-of-two size, not 100/);
  });
});

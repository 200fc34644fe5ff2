/**
 * RSS over whole frames (nic-sim/rss/flow-key.ts, spread.ts): the flow a frame hashes
 * — held to the verification suite's values through Ethernet, VLAN, IPv4, IPv6, TCP and
 * UDP headers built by the project's packet builders — the cases that hash addresses only
 * (fragments, other protocols, ports cut off), frames with no flow, truncation and noise
 * (never an exception), and the indirection table spreading flows over the queues. The
 * per-packet hash (rssHashOf, what RssSpreader uses) against the readable definition —
 * the Toeplitz hash of rssFlow's input — and both against the flow each random frame was
 * built with, over every prefix of frames with 0–3 VLAN tags, IPv4 (any IHL, fragment
 * fields, protocol), IPv6 and other ethertypes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RSS_VERIFICATION_KEY, Toeplitz } from '../../nic-sim/rss/toeplitz.js';
import { type RssFlow, rssFlow, rssHashOf } from '../../nic-sim/rss/flow-key.js';
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

/**
 * A random frame and, for each length it may be cut to, the flow it was built to have:
 * worked out from the generated fields, not by walking the bytes, so it checks the walk
 * rssFlow and rssHashOf share.
 */
interface BuiltFrame {
  readonly frame: Uint8Array;
  readonly flowAt: (length: number) => { kind: RssFlow['kind']; input: number[] } | undefined;
}

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const tagArb = fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8), tci: fc.integer({ min: 0, max: 0xffff }) });
const tagsArb = fc.oneof({ weight: 6, arbitrary: fc.array(tagArb, { maxLength: 2 }) }, { weight: 1, arbitrary: fc.array(tagArb, { minLength: 3, maxLength: 3 }) });
// TCP/UDP (ports first) or anything else; mostly long enough to hold the ports.
const l4Arb = fc.oneof({ weight: 3, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 24 }) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3 }) });
const ipv4Arb = fc.record({
  family: fc.constant('ipv4' as const),
  version: fc.oneof({ weight: 9, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  ihl: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 5, max: 15 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) }),
  // Reserved, DF, MF, offset: mostly not a fragment, so the ports are hashed often.
  fragField: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0, 0x4000) }, // none, DF
    { weight: 1, arbitrary: fc.constantFrom(0x2000, 0x6000, 0x0001, 0x1fff, 0x8000) }, // MF, DF+MF, offsets, the reserved bit
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  ),
  protocol: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(6, 17) }, { weight: 1, arbitrary: fc.constantFrom(1, 0, 47) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  header: bytes(60), // the rest of the header, options included, cut to the IHL
  l4: l4Arb,
});
const ipv6Arb = fc.record({
  family: fc.constant('ipv6' as const),
  version: fc.oneof({ weight: 9, arbitrary: fc.constant(6) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  nextHeader: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(6, 17) }, { weight: 1, arbitrary: fc.constantFrom(58, 0, 44) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  header: bytes(40),
  l4: l4Arb,
});
const otherArb = fc.record({
  family: fc.constant('other' as const),
  etherType: fc.oneof(fc.constantFrom(0x0806, 0x88cc, 0x8100, 0x88a8, 0x0800 ^ 1), fc.integer({ min: 0, max: 0xffff })),
  payload: fc.uint8Array({ maxLength: 64 }),
});

const frameArb: fc.Arbitrary<BuiltFrame> = fc.record({ macs: bytes(12), tags: tagsArb, l3: fc.oneof(ipv4Arb, ipv6Arb, otherArb) }).map(({ macs, tags, l3 }) => {
  const out: number[] = [...macs];
  for (const t of tags) out.push(t.tpid >> 8, t.tpid & 0xff, t.tci >> 8, t.tci & 0xff);
  const etherType = l3.family === 'ipv4' ? 0x0800 : l3.family === 'ipv6' ? 0x86dd : l3.etherType;
  out.push(etherType >> 8, etherType & 0xff);
  const l3At = out.length;
  // A third tag is not skipped: its TPID stands where the ethertype is read.
  const isIp = tags.length <= 2 && l3.family !== 'other';
  let flowAt: BuiltFrame['flowAt'] = () => undefined;
  if (l3.family === 'ipv4') {
    const h = [...l3.header.subarray(0, Math.max(20, 4 * l3.ihl))];
    h[0] = (l3.version << 4) | l3.ihl;
    h[6] = l3.fragField >> 8;
    h[7] = l3.fragField & 0xff;
    h[9] = l3.protocol;
    out.push(...h, ...l3.l4);
    const addrs = h.slice(12, 20);
    const fragment = (l3.fragField & 0x3fff) !== 0;
    const hasPorts = !fragment && (l3.protocol === 6 || l3.protocol === 17);
    const l4At = l3At + h.length;
    if (isIp && l3.version === 4 && l3.ihl >= 5) {
      flowAt = (n) => {
        if (n < l3At + 20) return undefined;
        return hasPorts && n >= l4At + 4 ? { kind: 'ipv4-l4', input: [...addrs, ...l3.l4.subarray(0, 4)] } : { kind: 'ipv4', input: addrs };
      };
    }
  } else if (l3.family === 'ipv6') {
    const h = [...l3.header];
    h[0] = (l3.version << 4) | (h[0]! & 0x0f);
    h[6] = l3.nextHeader;
    out.push(...h, ...l3.l4);
    const addrs = h.slice(8, 40);
    const hasPorts = l3.nextHeader === 6 || l3.nextHeader === 17;
    if (isIp && l3.version === 6) {
      flowAt = (n) => {
        if (n < l3At + 40) return undefined;
        return hasPorts && n >= l3At + 44 ? { kind: 'ipv6-l4', input: [...addrs, ...l3.l4.subarray(0, 4)] } : { kind: 'ipv6', input: addrs };
      };
    }
  } else {
    out.push(...l3.payload);
  }
  return { frame: Uint8Array.from(out), flowAt };
});

describe('the per-packet RSS hash equals the definition', () => {
  const hex = (b: ArrayLike<number>) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  /**
   * Every prefix of the frame: rssFlow gives the built flow; rssHashOf, the spreader's
   * hashOf and queueOf what the Toeplitz hash of that flow's input gives (−1, undefined,
   * queue 0 when there is none). One line per length, compared at once.
   */
  function check(hasher: Toeplitz, spread: RssSpreader, { frame, flowAt }: BuiltFrame): void {
    const got: string[] = [];
    const want: string[] = [];
    for (let n = 0; n <= frame.length; n++) {
      const p = frame.subarray(0, n);
      const flow = rssFlow(p);
      const h = flow ? hasher.hash(flow.input) : -1;
      got.push(`${n}: ${flow?.kind} ${flow && hex(flow.input)} fast ${rssHashOf(p, hasher)} hashOf ${spread.hashOf(p)} queue ${spread.queueOf(p)}`);
      const built = flowAt(n);
      want.push(`${n}: ${built?.kind} ${built && hex(built.input)} fast ${h} hashOf ${flow ? h : undefined} queue ${flow ? (h & (RSS_TABLE_SIZE - 1)) % spread.queues : 0}`);
    }
    expect(got).toEqual(want);
  }

  it('with the verification key', () => {
    const hasher = new Toeplitz(RSS_VERIFICATION_KEY);
    const spread = new RssSpreader(RSS_VERIFICATION_KEY, 5);
    fc.assert(fc.property(frameArb, (built) => check(hasher, spread, built)), { seed: 0x5eed, numRuns: 2000 });
  });

  it('with a random 40-byte key', () => {
    fc.assert(fc.property(bytes(40), frameArb, (key, built) => check(new Toeplitz(key), new RssSpreader(key, 7), built)), { seed: 0xbeef, numRuns: 2000 });
  });

  it('the generated frames reach every kind of flow and none', () => {
    const kinds = new Map<string, number>();
    for (const { frame, flowAt } of fc.sample(frameArb, { seed: 0x5eed, numRuns: 2000 })) {
      const k = flowAt(frame.length)?.kind ?? 'none';
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    for (const k of ['ipv4', 'ipv4-l4', 'ipv6', 'ipv6-l4', 'none']) expect(kinds.get(k) ?? 0, k).toBeGreaterThan(100);
  });
});

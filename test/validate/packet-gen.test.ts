/**
 * The random packet generator of `offload validate --random`: the same seed
 * gives the same packets, every layer kind shows up, the headers it calls valid
 * are valid by their bytes (checksums, lengths, the IPv6 next-header chain, as
 * an independent parser reads them), and branch hints land in the fields.
 */
import { describe, expect, it } from 'vitest';
import {
  createPacketGenerator,
  createRng,
  ethernet,
  icmp,
  internetChecksum,
  ipv4,
  ipv6,
  ipv6FragmentHeader,
  ipv6OptionsHeader,
  ipv6RoutingHeader,
  tcp,
  udp,
  type GeneratedPacket,
  type LayerInfo,
} from '../../offload/validate/packet-gen.js';
import { checksum, parsePacket, type ParsedKind } from './packet-parse.js';

const hex = (p: Uint8Array): string => Buffer.from(p).toString('hex');
const be16 = (p: Uint8Array, at: number): number => ((p[at] as number) << 8) | (p[at + 1] as number);

function generate(seed: number, n: number, opts: Partial<Parameters<typeof createPacketGenerator>[0]> = {}): GeneratedPacket[] {
  const g = createPacketGenerator({ seed, ...opts });
  return Array.from({ length: n }, () => g.nextWithInfo());
}

/** Is the whole header inside the packet? */
const complete = (g: GeneratedPacket, l: LayerInfo): boolean => l.offset + l.length <= g.packet.length;

const N = 5000;
const SAMPLE = generate(1, N);

describe('seeded PRNG', () => {
  it('is deterministic and spreads', () => {
    const a = createRng(7);
    const b = createRng(7);
    const xs = Array.from({ length: 1000 }, () => a.u32());
    expect(Array.from({ length: 1000 }, () => b.u32())).toEqual(xs);
    expect(new Set(xs).size).toBeGreaterThan(990);
    expect(createRng(8).u32()).not.toBe(xs[0]);
    expect(createRng(1 + 2 ** 32).u32()).not.toBe(createRng(1).u32());
    const r = createRng(3);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[r.int(10)]!++;
    for (const c of buckets) expect(c).toBeGreaterThan(850);
    for (let i = 0; i < 1000; i++) {
      const v = r.range(-3, 3);
      expect(v).toBeGreaterThanOrEqual(-3);
      expect(v).toBeLessThanOrEqual(3);
    }
  });

  it('refuses a seed that is not a number', () => {
    expect(() => createRng(Number.NaN)).toThrow(RangeError);
    expect(() => createPacketGenerator({ seed: 1, maxLength: -1 })).toThrow(RangeError);
  });
});

describe('determinism', () => {
  it('gives the same packets for the same seed', () => {
    const a = generate(42, 1000).map((g) => hex(g.packet));
    const b = createPacketGenerator({ seed: 42 });
    expect(Array.from({ length: 1000 }, () => hex(b.next()))).toEqual(a);
  });

  it('gives different packets for different seeds', () => {
    const a = generate(42, 200).map((g) => hex(g.packet));
    const b = generate(43, 200).map((g) => hex(g.packet));
    const same = a.filter((p, i) => p === b[i]).length;
    expect(same).toBeLessThan(5); // a few empty packets may coincide
  });

  it('next() and nextWithInfo() walk the same stream', () => {
    const g = createPacketGenerator({ seed: 9 });
    const mixed = Array.from({ length: 300 }, (_, i) => hex(i % 2 ? g.next() : g.nextWithInfo().packet));
    expect(mixed).toEqual(generate(9, 300).map((x) => hex(x.packet)));
  });
});

describe(`coverage over ${N} packets`, () => {
  it('has every layer kind, as the parser reads the bytes', () => {
    const seen = new Map<ParsedKind, number>();
    for (const g of SAMPLE) for (const l of parsePacket(g.packet).layers) seen.set(l.kind, (seen.get(l.kind) ?? 0) + 1);
    const kinds: ParsedKind[] = [
      'ethernet', 'vlan', 'arp', 'ipv4', 'ipv6', 'ipv6-hop-by-hop', 'ipv6-routing', 'ipv6-fragment', 'ipv6-dest-opts',
      'tcp', 'udp', 'icmp', 'icmpv6',
    ];
    for (const k of kinds) expect(seen.get(k) ?? 0, k).toBeGreaterThan(20);
  });

  it('has truncated, tiny, padded and full-size packets', () => {
    const lengths = SAMPLE.map((g) => g.packet.length);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(1514);
    expect(lengths.filter((n) => n === 0).length).toBeGreaterThan(0);
    expect(lengths.filter((n) => n < 14).length).toBeGreaterThan(30);
    expect(lengths.filter((n) => n <= 60).length).toBeGreaterThan(200);
    expect(lengths.filter((n) => n > 200 && n < 1000).length).toBeGreaterThan(500);
    expect(lengths.filter((n) => n >= 1400).length).toBeGreaterThan(200);
    expect(lengths.filter((n) => n === 1514).length).toBeGreaterThan(100);
    expect(SAMPLE.filter((g) => g.truncated).length).toBeGreaterThan(200);
    expect(SAMPLE.filter((g) => g.noise).length).toBeGreaterThan(50);
    // Cut right at a header boundary: the parser then stops just before that header.
    const atBoundary = SAMPLE.filter((g) => g.truncated && g.layers.some((l) => l.offset === g.packet.length));
    expect(atBoundary.length).toBeGreaterThan(20);
  });

  it('varies Ethernet, VLAN and EtherType', () => {
    const dsts = SAMPLE.filter((g) => g.packet.length >= 14).map((g) => g.packet.subarray(0, 6));
    expect(dsts.filter((d) => d.every((b) => b === 0xff)).length).toBeGreaterThan(50);
    expect(dsts.filter((d) => (d[0]! & 1) === 1 && !d.every((b) => b === 0xff)).length).toBeGreaterThan(50);
    expect(dsts.filter((d) => (d[0]! & 1) === 0).length).toBeGreaterThan(2000);
    const tags = SAMPLE.map((g) => g.layers.filter((l) => l.kind === 'vlan'));
    expect(tags.filter((t) => t.length === 2).length).toBeGreaterThan(100);
    const tpids = new Set(SAMPLE.flatMap((g) => g.layers.filter((l) => l.kind === 'vlan' && complete(g, l)).map((l) => be16(g.packet, l.offset))));
    expect(tpids).toContain(0x8100);
    expect(tpids).toContain(0x88a8);
    const ets = SAMPLE.map((g) => parsePacket(g.packet).etherType).filter((e) => e !== undefined);
    const others = ets.filter((e) => e !== 0x0800 && e !== 0x86dd && e !== 0x0806);
    expect(others.length).toBeGreaterThan(300);
    expect(new Set(others).size).toBeGreaterThan(100);
    expect(others.filter((e) => e! < 0x600).length).toBeGreaterThan(20);
  });

  it('varies the IPv4 fields, wrong values included', () => {
    const hdrs = SAMPLE.flatMap((g) => g.layers.filter((l) => l.kind === 'ipv4' && complete(g, l)).map((l) => g.packet.subarray(l.offset, l.offset + l.length)));
    expect(hdrs.length).toBeGreaterThan(1000);
    const count = (f: (h: Uint8Array) => boolean): number => hdrs.filter(f).length;
    expect(count((h) => h[0]! >> 4 !== 4)).toBeGreaterThan(20); // wrong version
    expect(count((h) => (h[0]! & 0xf) < 5)).toBeGreaterThan(20); // IHL too small
    expect(count((h) => (h[0]! & 0xf) > 5)).toBeGreaterThan(100); // options
    expect(count((h) => (h[0]! & 0xf) === 15)).toBeGreaterThan(5);
    expect(count((h) => h[8] === 0)).toBeGreaterThan(30); // TTL 0
    expect(count((h) => h[8] === 1)).toBeGreaterThan(30); // TTL 1
    expect(count((h) => (be16(h, 6) & 0x2000) !== 0)).toBeGreaterThan(50); // MF
    expect(count((h) => (be16(h, 6) & 0x1fff) !== 0)).toBeGreaterThan(50); // fragment offset
    expect(count((h) => checksum(h) !== 0)).toBeGreaterThan(50); // bad header checksum
    expect(count((h) => checksum(h) === 0)).toBeGreaterThan(1000);
    const protos = new Set(hdrs.map((h) => h[9]));
    expect(protos.size).toBeGreaterThan(40);
  });

  it('varies TCP flags and options, and UDP/ICMP fields', () => {
    const tcps = SAMPLE.flatMap((g) => g.layers.filter((l) => l.kind === 'tcp' && complete(g, l)).map((l) => g.packet.subarray(l.offset, l.offset + l.length)));
    const flags = new Set(tcps.map((t) => t[13]));
    for (const f of [0x02, 0x12, 0x10, 0x04, 0x14, 0x01, 0x11, 0x00, 0x29, 0x03]) expect(flags, `flags 0x${f.toString(16)}`).toContain(f);
    const optionKinds = new Set<number>();
    for (const t of tcps) for (let i = 20; i < t.length; i++) if (i === 20 || t[i - 1] === 1) optionKinds.add(t[i]!);
    for (const k of [0, 1, 2, 3, 4, 5, 8]) expect(optionKinds, `option ${k}`).toContain(k);
    expect(tcps.filter((t) => t[12]! >> 4 === 15).length).toBeGreaterThan(10);
    expect(tcps.filter((t) => t[12]! >> 4 < 5).length).toBeGreaterThan(5); // bad data offset
    expect(tcps.filter((t) => t[12]! >> 4 !== t.length / 4).length).toBeGreaterThan(20);

    const bad = SAMPLE.filter((g) => g.layers.some((l) => l.kind === 'udp' && !l.valid)).length;
    expect(bad).toBeGreaterThan(50);
    const icmpTypes = new Set(SAMPLE.flatMap((g) => g.layers.filter((l) => l.kind === 'icmp' && complete(g, l)).map((l) => g.packet[l.offset])));
    for (const t of [0, 3, 8, 11]) expect(icmpTypes).toContain(t);
    const icmp6Types = new Set(SAMPLE.flatMap((g) => g.layers.filter((l) => l.kind === 'icmpv6' && complete(g, l)).map((l) => g.packet[l.offset])));
    for (const t of [1, 2, 128, 129, 135, 136]) expect(icmp6Types).toContain(t);
  });

  it('builds 0 to 3 IPv6 extension headers, hop-by-hop mostly first', () => {
    const chains = SAMPLE.filter((g) => g.layers.some((l) => l.kind === 'ipv6')).map((g) => g.layers.filter((l) => l.kind.startsWith('ipv6-')).map((l) => l.kind));
    for (let n = 0; n <= 3; n++) expect(chains.filter((c) => c.length === n).length, `${n} headers`).toBeGreaterThan(20);
    const withHbh = chains.filter((c) => c.includes('ipv6-hop-by-hop'));
    expect(withHbh.filter((c) => c[0] === 'ipv6-hop-by-hop').length / withHbh.length).toBeGreaterThan(0.85);
  });

  it('respects maxLength', () => {
    for (const max of [0, 13, 100]) {
      const ps = generate(5, 1000, { maxLength: max });
      expect(Math.max(...ps.map((g) => g.packet.length))).toBeLessThanOrEqual(max);
      if (max > 0) expect(ps.filter((g) => g.packet.length === max).length).toBeGreaterThan(100);
    }
  });
});

describe('what the generator calls valid is valid', () => {
  it('IPv4: checksum, version, IHL and total length', () => {
    let checked = 0;
    for (const g of SAMPLE) {
      for (const l of g.layers) {
        if (l.kind !== 'ipv4' || !complete(g, l)) continue;
        const h = g.packet.subarray(l.offset, l.offset + l.length);
        expect(checksum(h) === 0, hex(h)).toBe(l.checksumOk);
        if (!l.valid) continue;
        checked++;
        expect(h[0]! >> 4).toBe(4);
        expect((h[0]! & 0xf) * 4).toBe(l.length);
        if (!g.truncated) {
          const end = l.offset + be16(h, 2);
          expect(end).toBeLessThanOrEqual(g.packet.length);
          expect(g.packet.subarray(end).every((b) => b === 0), 'only padding after the datagram').toBe(true);
        }
      }
    }
    expect(checked).toBeGreaterThan(800);
  });

  it('IPv6: the next-header chain parses to the headers built', () => {
    let checked = 0;
    for (const g of SAMPLE) {
      const ip = g.layers.find((l) => l.kind === 'ipv6');
      if (!ip || g.truncated || g.packet[ip.offset]! >> 4 !== 6) continue;
      const p = g.packet;
      const exts = g.layers.filter((l) => l.kind.startsWith('ipv6-'));
      let nh = p[ip.offset + 6]!;
      let at = ip.offset + 40;
      const walked: { kind: string; offset: number }[] = [];
      const names: Record<number, string> = { 0: 'ipv6-hop-by-hop', 43: 'ipv6-routing', 44: 'ipv6-fragment', 60: 'ipv6-dest-opts' };
      while (names[nh] !== undefined) {
        walked.push({ kind: names[nh]!, offset: at });
        const len = nh === 44 ? 8 : (p[at + 1]! + 1) * 8;
        nh = p[at]!;
        at += len;
      }
      expect(walked).toEqual(exts.map((l) => ({ kind: l.kind, offset: l.offset })));
      const upper = g.layers.find((l) => l.kind === 'tcp' || l.kind === 'udp' || l.kind === 'icmpv6');
      if (upper) {
        expect(upper.offset).toBe(at);
        expect(nh).toBe({ tcp: 6, udp: 17, icmpv6: 58 }[upper.kind as 'tcp' | 'udp' | 'icmpv6']);
      }
      if (ip.valid) expect(be16(p, ip.offset + 4)).toBeLessThanOrEqual(p.length - ip.offset - 40);
      checked++;
    }
    expect(checked).toBeGreaterThan(800);
  });

  it('TCP/UDP/ICMP/ICMPv6: checksums and length fields', () => {
    const counts: Record<string, number> = {};
    for (const g of SAMPLE) {
      if (g.truncated) continue;
      const p = g.packet;
      const ip = g.layers.find((l) => l.kind === 'ipv4' || l.kind === 'ipv6');
      const l4 = g.layers.find((l) => l.kind === 'tcp' || l.kind === 'udp' || l.kind === 'icmp' || l.kind === 'icmpv6');
      if (!ip || !l4 || !ip.valid) continue;
      const v4 = ip.kind === 'ipv4';
      const end = v4 ? ip.offset + be16(p, ip.offset + 2) : ip.offset + 40 + be16(p, ip.offset + 4);
      const seg = p.subarray(l4.offset, end);
      const proto = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 }[l4.kind as 'tcp'];
      const pseudo = v4
        ? Uint8Array.of(...p.subarray(ip.offset + 12, ip.offset + 20), 0, proto, seg.length >> 8, seg.length & 0xff)
        : Uint8Array.of(...p.subarray(ip.offset + 8, ip.offset + 40), 0, 0, seg.length >> 8, seg.length & 0xff, 0, 0, 0, proto);
      const ok = l4.kind === 'icmp' ? checksum(seg) === 0 : checksum(pseudo, seg) === 0;
      expect(ok, `${l4.kind} ${hex(seg.subarray(0, 24))}`).toBe(l4.checksumOk);
      if (l4.valid && l4.kind === 'tcp') expect((seg[12]! >> 4) * 4).toBe(l4.length);
      if (l4.valid && l4.kind === 'udp') expect(be16(seg, 4)).toBe(seg.length);
      counts[`${l4.kind}/${ip.kind}`] = (counts[`${l4.kind}/${ip.kind}`] ?? 0) + 1;
    }
    for (const k of ['tcp/ipv4', 'udp/ipv4', 'icmp/ipv4', 'tcp/ipv6', 'udp/ipv6', 'icmpv6/ipv6']) expect(counts[k] ?? 0, k).toBeGreaterThan(50);
  });

  it('the parser finds exactly the layers of every packet built all valid', () => {
    let checked = 0;
    for (const g of SAMPLE) {
      if (g.truncated || g.noise || !g.layers.every((l) => l.valid)) continue;
      const parsed = parsePacket(g.packet).layers;
      expect(parsed, hex(g.packet.subarray(0, 80))).toEqual(g.layers.map((l) => ({ kind: l.kind, offset: l.offset })));
      checked++;
    }
    expect(checked).toBeGreaterThan(1500);
  });
});

describe('branch hints', () => {
  const count = (ps: GeneratedPacket[], pred: (p: ReturnType<typeof parsePacket>) => boolean): number =>
    ps.filter((g) => pred(parsePacket(g.packet))).length;

  it('puts 16-bit hints in EtherTypes and ports', () => {
    const hinted = generate(11, 3000, { hints: { values16: [0x1234] } });
    const plain = generate(11, 3000);
    const et = (p: ReturnType<typeof parsePacket>): boolean => p.etherType === 0x1234;
    const port = (p: ReturnType<typeof parsePacket>): boolean => p.srcPort === 0x1234 || p.dstPort === 0x1234;
    expect(count(hinted, et)).toBeGreaterThan(100);
    expect(count(hinted, port)).toBeGreaterThan(100);
    expect(count(plain, et) + count(plain, port)).toBeLessThanOrEqual(2);
  });

  it('puts 8- and 32-bit hints in protocol, TTL and addresses', () => {
    const hinted = generate(12, 3000, { hints: { values8: [0x99], values32: [0xc0000201] } });
    const v4 = hinted.flatMap((g) => g.layers.filter((l) => l.kind === 'ipv4' && complete(g, l)).map((l) => g.packet.subarray(l.offset)));
    expect(v4.filter((h) => h[9] === 0x99).length).toBeGreaterThan(50);
    expect(v4.filter((h) => h[8] === 0x99).length).toBeGreaterThan(50);
    expect(count(hinted, (p) => p.ipv4Src === 0xc0000201)).toBeGreaterThan(50);
  });

  it('uses small hints as whole-packet lengths', () => {
    const hinted = generate(13, 3000, { hints: { values8: [77] } });
    const plain = generate(13, 3000);
    expect(hinted.filter((g) => g.packet.length === 77).length).toBeGreaterThan(plain.filter((g) => g.packet.length === 77).length + 50);
  });
});

describe('building blocks', () => {
  it('ipv4 computes the header checksum (a well-known header)', () => {
    const h = ipv4({ totalLength: 0x73, flags: 2, ttl: 64, protocol: 17, src: 0xc0a80001, dst: 0xc0a800c7 });
    expect(hex(h)).toBe('450000730000400040 11b861c0a80001c0a800c7'.replace(/ /g, ''));
    expect(internetChecksum(h)).toBe(0);
    const withOpts = ipv4({ protocol: 6, src: 1, dst: 2, options: Uint8Array.of(148, 4, 0, 0) }, new Uint8Array(3));
    expect(withOpts[0]).toBe(0x46);
    expect(be16(withOpts, 2)).toBe(27);
    expect(checksum(withOpts.subarray(0, 24))).toBe(0);
  });

  it('ethernet lays out tags outermost first', () => {
    const e = ethernet({
      dst: [1, 2, 3, 4, 5, 6],
      src: [7, 8, 9, 10, 11, 12],
      tags: [{ tpid: 0x88a8, vid: 100, pcp: 5 }, { tpid: 0x8100, vid: 0xfff, dei: true }],
      etherType: 0x86dd,
    });
    expect(hex(e)).toBe('010203040506' + '0708090a0b0c' + '88a8a064' + '81001fff' + '86dd');
  });

  it('transport checksums verify with the pseudo-header', () => {
    const src = Uint8Array.of(10, 0, 0, 1);
    const dst = Uint8Array.of(10, 0, 0, 2);
    const seg = tcp({ srcPort: 1, dstPort: 2, flags: 0x02, options: Uint8Array.of(2, 4, 5, 0xb4) }, Uint8Array.of(1, 2, 3), { src, dst });
    expect(seg[12]! >> 4).toBe(6);
    expect(checksum(Uint8Array.of(...src, ...dst, 0, 6, 0, seg.length), seg)).toBe(0);
    const u = udp({ srcPort: 53, dstPort: 53 }, new Uint8Array(5), { src, dst });
    expect(be16(u, 4)).toBe(13);
    expect(checksum(Uint8Array.of(...src, ...dst, 0, 17, 0, 13), u)).toBe(0);
    const m = icmp({ type: 8, code: 0, rest: 0x00010002 }, Uint8Array.of(0xaa));
    expect(checksum(m)).toBe(0);
  });

  it('IPv6 extension headers are multiples of 8 bytes with correct lengths', () => {
    const hbh = ipv6OptionsHeader(6);
    expect(hex(hbh)).toBe('0600' + '0104' + '00000000'); // PadN of 4
    const dst = ipv6OptionsHeader(17, Uint8Array.of(4, 1, 9, 0)); // 2 + 4 = 6: Pad... PadN 0
    expect(dst.length).toBe(8);
    expect(hex(dst)).toBe('1100' + '04010900' + '0100');
    const seven = ipv6OptionsHeader(17, Uint8Array.of(0xc9, 5, 1, 2, 3, 4, 5)); // 9 bytes of options: 16 in all
    expect(seven.length).toBe(16);
    expect(seven[1]).toBe(1);
    const rh = ipv6RoutingHeader(58, 4, 1, new Uint8Array(4 + 32));
    expect([rh.length, rh[0], rh[1], rh[2], rh[3]]).toEqual([40, 58, 4, 4, 1]);
    expect(hex(ipv6FragmentHeader(6, 0x1fff, true, 0xdeadbeef))).toBe('0600fff9deadbeef');
    const whole = ipv6({ nextHeader: 44, src: new Uint8Array(16), dst: new Uint8Array(16), hopLimit: 1 }, ipv6FragmentHeader(59, 0, false, 1));
    expect(hex(whole.subarray(0, 8))).toBe('60000000' + '0008' + '2c01');
  });
});

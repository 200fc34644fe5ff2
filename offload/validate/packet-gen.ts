/**
 * Protocol-aware random packets for `offload validate --random N --seed S`, which
 * runs each packet through the host engine and the simulated card and compares
 * what they did. A packet is built layer by layer with random choices, so that it
 * gets deep enough into a parser to matter and yet breaks, now and then, every
 * rule a parser relies on (lengths, versions, checksums, header lengths), and is
 * sometimes cut short so that bounds checks are exercised.
 *
 * Header layouts built here:
 *   - Ethernet II with 0–2 tags: IEEE 802.1Q (TPID 0x8100) and 802.1ad (0x88a8);
 *   - ARP for IPv4 over Ethernet (RFC 826);
 *   - IPv4 with options (RFC 791), header checksum as RFC 1071 computes it;
 *   - IPv6 and its hop-by-hop, routing, fragment and destination-options
 *     extension headers (RFC 8200), segment routing header layout (RFC 8754);
 *   - TCP with options (RFC 793; MSS, window scale, SACK, timestamps: RFC 2018, 7323);
 *   - UDP (RFC 768); ICMP (RFC 792); ICMPv6 (RFC 4443, neighbour discovery RFC 4861).
 *
 * Everything is deterministic for a seed: the generator draws from its own seeded
 * generator (seeded-rng.ts) and never calls Math.random. The header layouts are
 * packet-headers.ts's; they are re-exported here for tests and hand-made packets.
 */
import { concatBytes } from '../../xdp/bytes/concat.js';
import type { BranchHints } from './branch-hints.js';
import { createRng, type Rng } from './seeded-rng.js';
import {
  ETHERTYPE, IPPROTO, TCP_FLAG, arp, ethernet, icmp, icmpv6, internetChecksum, ipv4, ipv4Bytes, ipv6, ipv6FragmentHeader,
  ipv6OptionsHeader, ipv6RoutingHeader, pseudoHeaderBytes, put16, put32, tcp, udp, writeIpv6Padding,
  type PseudoHeader, type VlanTag,
} from './packet-headers.js';

export * from './packet-headers.js';
export * from './seeded-rng.js';

// ---------------------------------------------------------------------------
// What the generator built
// ---------------------------------------------------------------------------

export type LayerKind =
  | 'ethernet'
  | 'vlan'
  | 'arp'
  | 'ipv4'
  | 'ipv6'
  | 'ipv6-hop-by-hop'
  | 'ipv6-routing'
  | 'ipv6-fragment'
  | 'ipv6-dest-opts'
  | 'tcp'
  | 'udp'
  | 'icmp'
  | 'icmpv6';

/** One header the generator built, before any truncation. */
export interface LayerInfo {
  kind: LayerKind;
  /** Byte offset of the header in the frame. */
  offset: number;
  /** Header length in bytes as written (Ethernet: VLAN tags included; ICMP: the 8-byte header). */
  length: number;
  /**
   * No field deliberately broken: version, header-length and length fields agree
   * with what was written, checksum (where there is one) correct.
   */
  valid: boolean;
  /**
   * Where the header carries a checksum: whether it is correct (the internet
   * checksum over what it covers is 0). IPv4: over [offset, offset + length).
   */
  checksumOk?: boolean;
}

export interface GeneratedPacket {
  packet: Uint8Array;
  /** Headers as built, outermost first; offsets may lie beyond a truncated packet. */
  layers: LayerInfo[];
  /** Length of the frame before it was cut (padding included). */
  builtLength: number;
  /** The packet is shorter than what was built. */
  truncated: boolean;
  /** Random bytes (0..60 of them) rather than a built frame; `layers` is empty. */
  noise: boolean;
}

export interface PacketGeneratorOptions {
  seed: number;
  /** Constants the program compares against (branch-hints.ts); missing lists count as empty. */
  hints?: Partial<BranchHints>;
  /** Longest packet produced; default 1514 (Ethernet without FCS). */
  maxLength?: number;
}

export interface PacketGenerator {
  /** The next packet. */
  next(): Uint8Array;
  /** The next packet with what was built (same stream as `next`). */
  nextWithInfo(): GeneratedPacket;
}

// ---------------------------------------------------------------------------
// The random builder
// ---------------------------------------------------------------------------

interface Built {
  bytes: Uint8Array;
  layers: LayerInfo[];
}

/** Probability that a field with hints of its width takes a hint value. */
const HINT_P = 0.2;

const EXT_PROTO = { 'ipv6-hop-by-hop': 0, 'ipv6-routing': 43, 'ipv6-fragment': 44, 'ipv6-dest-opts': 60 } as const;
type ExtKind = keyof typeof EXT_PROTO;
const EXT_KINDS: readonly ExtKind[] = ['ipv6-hop-by-hop', 'ipv6-routing', 'ipv6-fragment', 'ipv6-dest-opts'];
/** Next-header values that mean an extension header (or ESP/AH/mobility), never used as the upper layer. */
const EXT_NUMBERS = new Set([0, 43, 44, 50, 51, 60, 135, 139, 140]);

const PORTS = [0, 20, 21, 22, 23, 25, 53, 67, 68, 80, 123, 161, 443, 546, 547, 1024, 4789, 6081, 8080, 65535];

function shift(layers: readonly LayerInfo[], by: number): LayerInfo[] {
  return layers.map((l) => ({ ...l, offset: l.offset + by }));
}

class FrameBuilder {
  private readonly v8: number[];
  private readonly v16: number[];
  private readonly v32: number[];
  /** The 32-bit hints that do not fit 16 bits: the ones that look like addresses. */
  private readonly v32wide: number[];
  /** Hint values usable as a whole-packet length. */
  private readonly lengths: number[];

  constructor(
    private readonly rng: Rng,
    hints: Partial<BranchHints>,
    private readonly maxLength: number,
  ) {
    this.v8 = (hints.values8 ?? []).map((v) => v & 0xff);
    this.v16 = (hints.values16 ?? []).map((v) => v & 0xffff);
    this.v32 = (hints.values32 ?? []).map((v) => v >>> 0);
    this.v32wide = this.v32.filter((v) => v > 0xffff);
    this.lengths = [...new Set([...this.v8, ...this.v16])].filter((v) => v <= maxLength).sort((a, b) => a - b);
  }

  // -- hinted fields ---------------------------------------------------------

  private h8(fallback: () => number): number {
    return this.v8.length > 0 && this.rng.chance(HINT_P) ? this.rng.pick(this.v8) : fallback() & 0xff;
  }
  private h16(fallback: () => number): number {
    return this.v16.length > 0 && this.rng.chance(HINT_P) ? this.rng.pick(this.v16) : fallback() & 0xffff;
  }
  private h32(fallback: () => number): number {
    if (this.v32.length === 0 || !this.rng.chance(HINT_P)) return fallback() >>> 0;
    return this.pick32();
  }
  /** A 32-bit hint, the wide ones preferred (small values are mostly 8/16-bit fields' constants). */
  private pick32(): number {
    return this.v32wide.length > 0 && this.rng.chance(0.75) ? this.rng.pick(this.v32wide) : this.rng.pick(this.v32);
  }

  /** A value for a length field that was not left consistent: near the right one, a hint, or anything. */
  private wrongLength(consistent: number, minimum: number): number {
    const r = this.rng;
    for (;;) {
      const k = r.int(6);
      const v =
        k === 0 && this.v16.length > 0
          ? r.pick(this.v16)
          : k <= 1
            ? consistent + r.range(1, 16)
            : k === 2
              ? consistent - r.range(1, 16)
              : k === 3
                ? r.int(minimum + 1)
                : k === 4
                  ? 0xffff - r.int(4)
                  : r.int(0x10000);
      const w = v & 0xffff;
      if (w !== consistent) return w;
    }
  }

  /** Overwrite a checksum with one that does not verify. */
  private breakChecksum(buf: Uint8Array, at: number, verify: () => boolean): void {
    put16(buf, at, this.rng.chance(0.3) ? 0 : this.rng.int(0x10000));
    if (verify()) buf[at + 1] = (buf[at + 1] as number) ^ 1;
  }

  // -- payloads --------------------------------------------------------------

  /** A payload length that fits in `room`, spread so that tiny and full-size packets both occur. */
  private payloadLength(used: number): number {
    const room = Math.max(0, this.maxLength - used);
    const r = this.rng;
    const p = r.int(100);
    if (p < 30) return r.int(Math.min(16, room) + 1);
    if (p < 58) return r.int(Math.min(128, room) + 1);
    if (p < 78) return r.int(Math.min(512, room) + 1);
    if (p < 91) return r.int(room + 1);
    return room;
  }

  private payload(used: number): Uint8Array {
    const n = this.payloadLength(used);
    const r = this.rng;
    const k = r.int(10);
    if (k === 0) return new Uint8Array(n);
    if (k === 1) return new Uint8Array(n).fill(r.int(256));
    return r.bytes(n);
  }

  // -- addresses -------------------------------------------------------------

  private mac(unicastMostly: boolean): Uint8Array {
    const r = this.rng;
    if (!unicastMostly) {
      const k = r.int(100);
      if (k < 10) return new Uint8Array(6).fill(0xff);
      if (k < 16) return Uint8Array.of(0x01, 0x00, 0x5e, r.int(128), r.int(256), r.int(256));
      if (k < 21) return Uint8Array.of(0x33, 0x33, ...r.bytes(4));
      if (k < 24) return Uint8Array.of(0x01, 0x80, 0xc2, 0, 0, r.int(16));
      if (k < 27) {
        const m = r.bytes(6);
        m[0] = (m[0] as number) | 1;
        return m;
      }
    }
    const m = r.bytes(6);
    m[0] = (m[0] as number) & 0xfe;
    if (unicastMostly && r.chance(0.02)) m[0] = (m[0] as number) | 1; // multicast source: bogus
    if (r.chance(0.02)) m.fill(0);
    return m;
  }

  private ipv4Addr(): number {
    return this.h32(() => {
      const r = this.rng;
      const k = r.int(100);
      if (k < 15) return (0x0a000000 | r.int(0x1000000)) >>> 0; // 10/8
      if (k < 25) return (0xc0a80000 | r.int(0x10000)) >>> 0; // 192.168/16
      if (k < 30) return (0xac100000 | r.int(0x100000)) >>> 0; // 172.16/12
      if (k < 34) return (0x7f000000 | r.int(0x1000000)) >>> 0; // loopback
      if (k < 38) return (0xe0000000 | r.int(0x10000000)) >>> 0; // multicast
      if (k < 40) return 0xffffffff;
      if (k < 42) return 0;
      return r.u32();
    });
  }

  private ipv6Addr(): Uint8Array {
    const r = this.rng;
    const k = r.int(100);
    let a: Uint8Array;
    if (k < 20) a = Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, ...r.bytes(8));
    else if (k < 30) a = Uint8Array.of(0xff, r.pick([0x01, 0x02, 0x05, 0x0e]), ...new Uint8Array(13), r.pick([1, 2, 0xfb]));
    else if (k < 35) a = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, ...r.bytes(3)); // solicited-node
    else if (k < 38) a = Uint8Array.of(...new Uint8Array(15), 1); // ::1
    else if (k < 40) a = new Uint8Array(16); // ::
    else if (k < 45) a = Uint8Array.of(...new Uint8Array(10), 0xff, 0xff, ...ipv4Bytes(this.ipv4Addr())); // v4-mapped
    else if (k < 60) a = Uint8Array.of(0xfd, ...r.bytes(15)); // unique local
    else a = Uint8Array.of(0x20 | r.int(16), ...r.bytes(15));
    if (this.v32.length > 0 && r.chance(HINT_P)) put32(a, 12 - 4 * r.int(4), this.pick32());
    return a;
  }

  // -- Ethernet --------------------------------------------------------------

  frame(): Built {
    const r = this.rng;
    const nTags = r.pick([0, 0, 0, 0, 0, 0, 0, 1, 1, 2]);
    const tags: VlanTag[] = [];
    for (let i = 0; i < nTags; i++) {
      let tpid: number;
      if (nTags === 2 && i === 0) tpid = r.pick([ETHERTYPE.QINQ, ETHERTYPE.QINQ, ETHERTYPE.QINQ, ETHERTYPE.VLAN, 0x9100]);
      else tpid = r.chance(0.85) ? ETHERTYPE.VLAN : ETHERTYPE.QINQ;
      const vid = this.v16.length > 0 && r.chance(HINT_P) ? r.pick(this.v16) & 0xfff : r.pick([0, 1, 4095, r.int(4096), r.int(4096)]);
      tags.push({ tpid, pcp: r.int(8), dei: r.chance(0.05), vid });
    }
    const hdrLen = 14 + 4 * nTags;
    const etherType = this.h16(() => {
      const k = r.int(100);
      if (k < 42) return ETHERTYPE.IPV4;
      if (k < 74) return ETHERTYPE.IPV6;
      if (k < 83) return ETHERTYPE.ARP;
      if (k < 88) return r.pick([0x8847, 0x8848, 0x88cc, 0x8035, 0x0842, 0x22f0, 0x88e5, 0x8864, 0x9000]);
      if (k < 92) return r.int(0x600); // 802.3 length field
      return r.int(0x10000);
    });
    const body = this.l3(etherType, hdrLen);
    const eth = ethernet({ dst: this.mac(false), src: this.mac(true), tags, etherType });
    const layers: LayerInfo[] = [{ kind: 'ethernet', offset: 0, length: hdrLen, valid: true }];
    // 0x9100 (pre-802.1ad QinQ) is a tag only to some parsers: not counted as valid.
    tags.forEach((t, i) =>
      layers.push({ kind: 'vlan', offset: 12 + 4 * i, length: 4, valid: t.tpid === ETHERTYPE.VLAN || t.tpid === ETHERTYPE.QINQ }),
    );
    return { bytes: concatBytes(eth, body.bytes), layers: [...layers, ...shift(body.layers, hdrLen)] };
  }

  private l3(etherType: number, used: number): Built {
    switch (etherType) {
      case ETHERTYPE.IPV4:
        return this.ipv4(used);
      case ETHERTYPE.IPV6:
        return this.ipv6(used);
      case ETHERTYPE.ARP:
        return this.arp();
      default:
        return { bytes: this.payload(used), layers: [] };
    }
  }

  // -- ARP -------------------------------------------------------------------

  private arp(): Built {
    const r = this.rng;
    const htype = r.chance(0.93) ? 1 : r.pick([0, 6, r.int(0x10000)]);
    const ptype = r.chance(0.93) ? ETHERTYPE.IPV4 : r.pick([ETHERTYPE.IPV6, 0, r.int(0x10000)]);
    const hlen = r.chance(0.95) ? 6 : r.int(256);
    const plen = r.chance(0.95) ? 4 : r.pick([0, 16, r.int(256)]);
    const op = this.h16(() => r.pick([1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 4, 0, r.int(0x10000)]));
    const spa = this.ipv4Addr();
    const tpa = r.chance(0.1) ? spa : this.ipv4Addr(); // gratuitous ARP now and then
    const bytes = arp({
      htype,
      ptype,
      hlen,
      plen,
      op,
      sha: this.mac(true),
      spa,
      tha: op === 1 ? new Uint8Array(6) : this.mac(true),
      tpa,
    });
    const valid = htype === 1 && ptype === ETHERTYPE.IPV4 && hlen === 6 && plen === 4;
    return { bytes, layers: [{ kind: 'arp', offset: 0, length: 28, valid }] };
  }

  // -- IPv4 ------------------------------------------------------------------

  private ttl(): number {
    return this.h8(() => {
      const r = this.rng;
      const k = r.int(100);
      if (k < 8) return 0;
      if (k < 16) return 1;
      if (k < 21) return 255;
      if (k < 50) return 64;
      if (k < 60) return 128;
      return r.range(2, 254);
    });
  }

  /** Fill `room` bytes with kind/length options as IPv4 (RFC 791 §3.1) and TCP (RFC 793) lay them out. */
  private tlvOptions(room: number, pickOption: (left: number) => Uint8Array): Uint8Array {
    const out = new Uint8Array(room);
    let at = 0;
    while (at < room) {
      const opt = pickOption(room - at);
      if (opt.length === 0 || opt.length > room - at) {
        out[at++] = 1; // NOP
        continue;
      }
      out.set(opt, at);
      at += opt.length;
      if (opt.length === 1 && opt[0] === 0) break; // EOL: the rest stays zero
    }
    return out;
  }

  private ipv4Options(room: number): Uint8Array {
    const r = this.rng;
    return this.tlvOptions(room, (left) => {
      const k = r.int(100);
      if (k < 20) return Uint8Array.of(1); // NOP
      if (k < 25) return Uint8Array.of(0); // EOL
      if (k < 40) return Uint8Array.of(148, 4, 0, 0); // router alert (RFC 2113)
      if (k < 55) {
        const n = r.range(1, Math.max(1, Math.floor((left - 3) / 4)));
        return Uint8Array.of(7, 3 + 4 * n, 4, ...r.bytes(4 * n)); // record route
      }
      if (k < 70) {
        const n = r.range(1, Math.max(1, Math.floor((left - 4) / 4)));
        return Uint8Array.of(68, 4 + 4 * n, 5, r.int(256), ...r.bytes(4 * n)); // timestamp
      }
      if (k < 78) return Uint8Array.of(130, 11, ...r.bytes(9)); // security
      // Anything, with a length that may well be wrong (0, 1, past the header).
      const len = r.pick([0, 1, 2, r.int(left + 1), 255]);
      return Uint8Array.of(r.int(256), len, ...r.bytes(Math.max(0, Math.min(len, left) - 2)));
    });
  }

  private ipv4(used: number): Built {
    const r = this.rng;
    const version = r.chance(0.93) ? 4 : r.pick([0, 1, 5, 6, 6, 6, 7, 15, r.int(16)]);
    let ihl: number;
    const k = r.int(100);
    if (k < 74) ihl = 5;
    else if (k < 92) ihl = r.range(6, 15);
    else if (k < 96) ihl = r.int(5); // invalid: shorter than the fixed header
    else {
      const small = this.v8.filter((v) => v <= 15);
      ihl = small.length > 0 ? r.pick(small) : r.range(5, 15);
    }
    const options = ihl > 5 ? this.ipv4Options((ihl - 5) * 4) : new Uint8Array(0);
    const hdrLen = 20 + options.length;

    let flags = 0;
    let fragOffset = 0;
    const f = r.int(100);
    if (f < 55) flags = 2; // DF
    else if (f < 80) flags = 0;
    else if (f < 88) flags = 1; // MF, first fragment
    else if (f < 96) {
      flags = r.chance(0.5) ? 1 : 0;
      fragOffset = r.range(1, 0x1fff);
    } else {
      flags = r.int(8); // reserved bit too
      fragOffset = r.chance(0.5) ? 0 : r.int(0x2000);
    }

    const protocol = this.h8(() => {
      const p = r.int(100);
      if (p < 38) return IPPROTO.TCP;
      if (p < 68) return IPPROTO.UDP;
      if (p < 84) return IPPROTO.ICMP;
      if (p < 92) return r.pick([2, 4, 41, 47, 50, 51, 58, 89, 132, 0, 255]);
      return r.int(256);
    });
    const src = this.ipv4Addr();
    const dst = this.ipv4Addr();
    const ph: PseudoHeader = { src: ipv4Bytes(src), dst: ipv4Bytes(dst) };
    // A fragment other than the first carries no transport header.
    const inner = fragOffset !== 0 ? { bytes: this.payload(used + hdrLen), layers: [] } : this.l4v4(protocol, ph, used + hdrLen);

    const consistent = hdrLen + inner.bytes.length;
    const lengthOk = r.chance(0.87);
    const totalLength = lengthOk ? consistent : this.wrongLength(consistent, hdrLen);
    const bytes = ipv4(
      {
        version,
        ihl,
        tos: r.chance(0.7) ? 0 : r.int(256),
        totalLength,
        id: this.h16(() => r.int(0x10000)),
        flags,
        fragOffset,
        ttl: this.ttl(),
        protocol,
        src,
        dst,
        options,
      },
      inner.bytes,
    );
    const header = bytes.subarray(0, hdrLen);
    if (!r.chance(0.9)) this.breakChecksum(bytes, 10, () => internetChecksum(header) === 0);
    const checksumOk = internetChecksum(header) === 0;
    const valid = version === 4 && ihl * 4 === hdrLen && totalLength === consistent && checksumOk;
    return {
      bytes,
      layers: [{ kind: 'ipv4', offset: 0, length: hdrLen, valid, checksumOk }, ...shift(inner.layers, hdrLen)],
    };
  }

  private l4v4(protocol: number, ph: PseudoHeader, used: number): Built {
    switch (protocol) {
      case IPPROTO.TCP:
        return this.tcp(ph, used);
      case IPPROTO.UDP:
        return this.udp(ph, used);
      case IPPROTO.ICMP:
        return this.icmp(used);
      default:
        return { bytes: this.payload(used), layers: [] };
    }
  }

  // -- IPv6 ------------------------------------------------------------------

  private ipv6OptionTlvs(room: number, hopByHop: boolean): Uint8Array {
    const r = this.rng;
    const out = new Uint8Array(room);
    let at = 0;
    while (at < room) {
      const left = room - at;
      const k = r.int(100);
      let opt: Uint8Array;
      if (k < 15 || left < 2) opt = Uint8Array.of(0); // Pad1
      else if (k < 30) {
        const n = Math.min(left, r.range(2, 8));
        opt = new Uint8Array(n); // PadN
        opt[0] = 1;
        opt[1] = n - 2;
      }
      else if (k < 45 && hopByHop) opt = Uint8Array.of(5, 2, 0, r.int(3)); // router alert (RFC 2711)
      else if (k < 50 && hopByHop) opt = Uint8Array.of(0xc2, 4, ...r.bytes(4)); // jumbo payload (RFC 2675)
      else if (k < 45) opt = Uint8Array.of(4, 1, r.int(256)); // tunnel encapsulation limit (RFC 2473)
      else if (k < 55) opt = Uint8Array.of(0xc9, 16, ...r.bytes(16)); // home address (RFC 6275)
      else {
        // Unknown type (any action bits) with a length that may overrun.
        const len = r.pick([0, 1, 2, 4, r.int(left), 255]);
        opt = Uint8Array.of(r.int(256), len, ...r.bytes(Math.max(0, Math.min(len, left - 2))));
      }
      if (opt.length > left) {
        writeIpv6Padding(out, at, left);
        break;
      }
      out.set(opt, at);
      at += opt.length;
    }
    return out;
  }

  /** One extension header of `kind` with next header 0 (patched by the caller). */
  private extHeader(kind: ExtKind): { bytes: Uint8Array; nonFirstFragment: boolean } {
    const r = this.rng;
    switch (kind) {
      case 'ipv6-hop-by-hop':
      case 'ipv6-dest-opts': {
        const units = r.pick([0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
        const body = this.ipv6OptionTlvs(6 + 8 * units, kind === 'ipv6-hop-by-hop');
        return { bytes: ipv6OptionsHeader(0, body), nonFirstFragment: false };
      }
      case 'ipv6-routing': {
        const t = r.int(10);
        if (t < 4) {
          // Segment routing header (RFC 8754): last entry, flags, tag, then the segments.
          const n = r.range(1, 4);
          const segLeft = r.chance(0.8) ? r.int(n) : r.int(256);
          const data = Uint8Array.of(n - 1, 0, 0, 0, ...r.bytes(16 * n));
          return { bytes: ipv6RoutingHeader(0, 4, segLeft, data), nonFirstFragment: false };
        }
        if (t < 7) {
          // Type 2 (RFC 6275): reserved, then one home address.
          return { bytes: ipv6RoutingHeader(0, 2, 1, Uint8Array.of(0, 0, 0, 0, ...this.ipv6Addr())), nonFirstFragment: false };
        }
        const units = r.int(4);
        return { bytes: ipv6RoutingHeader(0, r.pick([0, 3, r.int(256)]), r.int(256), r.bytes(4 + 8 * units)), nonFirstFragment: false };
      }
      case 'ipv6-fragment': {
        const offset = r.chance(0.65) ? 0 : r.range(1, 0x1fff);
        const more = r.chance(0.6);
        const reserved = r.chance(0.95) ? 0 : r.int(256);
        return { bytes: ipv6FragmentHeader(0, offset, more, this.h32(() => r.u32()), reserved), nonFirstFragment: offset !== 0 };
      }
    }
  }

  private ipv6(used: number): Built {
    const r = this.rng;
    const version = r.chance(0.95) ? 6 : r.pick([0, 4, 4, 5, 7, 15, r.int(16)]);
    const count = r.pick([0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3]);
    const kinds: ExtKind[] = [];
    for (let i = 0; i < count; i++) kinds.push(r.pick(EXT_KINDS));
    // Hop-by-hop belongs first (RFC 8200 §4.1); mostly keep it there.
    const hbh = kinds.indexOf('ipv6-hop-by-hop');
    if (hbh > 0 && r.chance(0.9)) {
      kinds.splice(hbh, 1);
      kinds.unshift('ipv6-hop-by-hop');
    }
    const upper = this.h8(() => {
      const p = r.int(100);
      if (p < 36) return IPPROTO.TCP;
      if (p < 66) return IPPROTO.UDP;
      if (p < 90) return IPPROTO.ICMPV6;
      if (p < 93) return IPPROTO.NONE;
      if (p < 96) return r.pick([4, 41, 47, 132, 1, 2]);
      return r.int(256);
    });
    // An upper-layer hint that names an extension header would break the chain: use UDP then.
    const upperProto = EXT_NUMBERS.has(upper) ? IPPROTO.UDP : upper;

    // In a fragment other than the first, what follows the fragment header is opaque data:
    // no further extension headers are built after one.
    const exts: { bytes: Uint8Array; nonFirstFragment: boolean }[] = [];
    for (const k of kinds) {
      const e = this.extHeader(k);
      exts.push(e);
      if (e.nonFirstFragment) break;
    }
    kinds.length = exts.length;
    exts.forEach((e, i) => {
      const nextKind = kinds[i + 1];
      e.bytes[0] = nextKind !== undefined ? EXT_PROTO[nextKind] : upperProto;
    });
    const first = kinds[0];
    const nextHeader = first !== undefined ? EXT_PROTO[first] : upperProto;
    const extBytes = concatBytes(...exts.map((e) => e.bytes));
    const hdrEnd = 40 + extBytes.length;

    const src = this.ipv6Addr();
    const dst = this.ipv6Addr();
    const ph: PseudoHeader = { src, dst };
    const nonFirst = exts.some((e) => e.nonFirstFragment);
    const inner = nonFirst ? { bytes: this.payload(used + hdrEnd), layers: [] } : this.l4v6(upperProto, ph, used + hdrEnd);

    const consistent = extBytes.length + inner.bytes.length;
    const payloadLength = r.chance(0.88) ? consistent : this.wrongLength(consistent, 0);
    const bytes = ipv6(
      {
        version,
        trafficClass: r.chance(0.7) ? 0 : r.int(256),
        flowLabel: r.chance(0.5) ? 0 : r.int(0x100000),
        payloadLength,
        nextHeader,
        hopLimit: this.ttl(),
        src,
        dst,
      },
      concatBytes(extBytes, inner.bytes),
    );
    const layers: LayerInfo[] = [{ kind: 'ipv6', offset: 0, length: 40, valid: version === 6 && payloadLength === consistent }];
    let at = 40;
    kinds.forEach((kind, i) => {
      const len = (exts[i] as { bytes: Uint8Array }).bytes.length;
      layers.push({ kind, offset: at, length: len, valid: true });
      at += len;
    });
    return { bytes, layers: [...layers, ...shift(inner.layers, hdrEnd)] };
  }

  private l4v6(protocol: number, ph: PseudoHeader, used: number): Built {
    switch (protocol) {
      case IPPROTO.TCP:
        return this.tcp(ph, used);
      case IPPROTO.UDP:
        return this.udp(ph, used);
      case IPPROTO.ICMPV6:
        return this.icmpv6(ph, used);
      case IPPROTO.NONE:
        return { bytes: this.rng.chance(0.7) ? new Uint8Array(0) : this.payload(used), layers: [] };
      default:
        return { bytes: this.payload(used), layers: [] };
    }
  }

  // -- TCP / UDP -------------------------------------------------------------

  private port(): number {
    return this.h16(() => (this.rng.chance(0.5) ? this.rng.pick(PORTS) : this.rng.int(0x10000)));
  }

  private tcpOptions(room: number): Uint8Array {
    const r = this.rng;
    return this.tlvOptions(room, (left) => {
      const k = r.int(100);
      if (k < 18) return Uint8Array.of(1); // NOP
      if (k < 22) return Uint8Array.of(0); // EOL
      if (k < 38) {
        const mss = this.h16(() => r.pick([1460, 1440, 536, 9000, 0, r.int(0x10000)]));
        return Uint8Array.of(2, 4, mss >>> 8, mss & 0xff); // MSS
      }
      if (k < 48) return Uint8Array.of(3, 3, r.chance(0.9) ? r.int(15) : r.int(256)); // window scale
      if (k < 60) return Uint8Array.of(4, 2); // SACK permitted
      if (k < 70) {
        const n = r.range(1, Math.max(1, Math.min(4, Math.floor((left - 2) / 8))));
        return Uint8Array.of(5, 2 + 8 * n, ...r.bytes(8 * n)); // SACK blocks
      }
      if (k < 86) return Uint8Array.of(8, 10, ...r.bytes(8)); // timestamps
      const len = r.pick([0, 1, 2, r.int(left + 1), 255]);
      return Uint8Array.of(r.int(256), len, ...r.bytes(Math.max(0, Math.min(len, left) - 2)));
    });
  }

  private tcpFlags(): number {
    const F = TCP_FLAG;
    return this.h8(() =>
      this.rng.chance(0.1)
        ? this.rng.int(256)
        : this.rng.pick([
            F.SYN,
            F.SYN,
            F.SYN | F.ACK,
            F.SYN | F.ACK,
            F.ACK,
            F.ACK,
            F.PSH | F.ACK,
            F.PSH | F.ACK,
            F.FIN | F.ACK,
            F.RST,
            F.RST | F.ACK,
            F.FIN,
            0,
            F.FIN | F.PSH | F.URG,
            F.SYN | F.FIN,
            F.SYN | F.RST,
            F.SYN | F.ECE | F.CWR,
            F.URG | F.ACK,
            0xff,
          ]),
    );
  }

  private tcp(ph: PseudoHeader, used: number): Built {
    const r = this.rng;
    const k = r.int(100);
    const actual = k < 55 ? 5 : r.range(6, 15);
    const options = actual > 5 ? this.tcpOptions((actual - 5) * 4) : new Uint8Array(0);
    const hdrLen = 20 + options.length;
    const dataOffset = r.chance(0.92) ? actual : r.int(16); // sometimes a lie: too short or past the segment
    const flags = this.tcpFlags();
    const payload = this.payload(used + hdrLen);
    const bytes = tcp(
      {
        srcPort: this.port(),
        dstPort: this.port(),
        seq: this.h32(() => r.u32()),
        ack: this.h32(() => (flags & TCP_FLAG.ACK || r.chance(0.2) ? r.u32() : 0)),
        dataOffset,
        reserved: r.chance(0.95) ? 0 : r.int(16),
        flags,
        window: r.chance(0.5) ? r.pick([0, 1024, 8192, 29200, 64240, 65535]) : r.int(0x10000),
        urgent: flags & TCP_FLAG.URG || r.chance(0.03) ? r.int(0x10000) : 0,
        options,
      },
      payload,
      ph,
    );
    const verify = (): boolean => internetChecksum(pseudoHeaderBytes(ph, IPPROTO.TCP, bytes.length), bytes) === 0;
    if (!r.chance(0.88)) this.breakChecksum(bytes, 16, verify);
    const checksumOk = verify();
    return {
      bytes,
      layers: [{ kind: 'tcp', offset: 0, length: hdrLen, valid: dataOffset === actual && checksumOk, checksumOk }],
    };
  }

  private udp(ph: PseudoHeader, used: number): Built {
    const r = this.rng;
    const payload = this.payload(used + 8);
    const consistent = 8 + payload.length;
    const lengthOk = r.chance(0.87);
    const length = lengthOk ? consistent : this.h16(() => this.wrongLength(consistent, 8));
    const c = r.int(100);
    const bytes = udp({ srcPort: this.port(), dstPort: this.port(), length }, payload, ph);
    if (c >= 80 && c < 90) put16(bytes, 6, 0); // "no checksum" (allowed over IPv4 only)
    const verify = (): boolean => internetChecksum(pseudoHeaderBytes(ph, IPPROTO.UDP, bytes.length), bytes) === 0;
    if (c >= 90) this.breakChecksum(bytes, 6, () => verify() || (bytes[6] === 0 && bytes[7] === 0));
    const checksumOk = verify();
    return {
      bytes,
      layers: [{ kind: 'udp', offset: 0, length: 8, valid: length === consistent && checksumOk, checksumOk }],
    };
  }

  // -- ICMP / ICMPv6 ---------------------------------------------------------

  /** The start of an offending packet, as ICMP error messages quote it. */
  private quotedIpv4(): Uint8Array {
    const r = this.rng;
    const quoted = r.bytes(r.pick([0, 8, 8, 8, 16]));
    return ipv4({ protocol: r.pick([6, 17, 1]), src: this.ipv4Addr(), dst: this.ipv4Addr(), ttl: r.int(256), id: r.int(0x10000) }, quoted);
  }

  private icmp(used: number): Built {
    const r = this.rng;
    const type = this.h8(() => {
      const k = r.int(100);
      if (k < 35) return 8; // echo request
      if (k < 58) return 0; // echo reply
      if (k < 72) return 3; // destination unreachable
      if (k < 80) return 11; // time exceeded
      if (k < 95) return r.pick([4, 5, 12, 13, 14, 9, 10]);
      return r.int(256);
    });
    const code = this.h8(() => (type === 3 ? r.int(16) : type === 11 ? r.int(2) : r.chance(0.95) ? 0 : r.int(256)));
    let rest: number;
    let body: Uint8Array;
    if (type === 0 || type === 8 || type === 13 || type === 14) {
      rest = ((this.h16(() => r.int(0x10000)) << 16) | this.h16(() => r.int(0x10000))) >>> 0;
      body = this.payload(used + 8);
    } else if (type === 3 || type === 11 || type === 12 || type === 4 || type === 5) {
      rest = type === 5 ? this.ipv4Addr() : type === 12 ? (r.int(256) << 24) >>> 0 : type === 3 && code === 4 ? r.int(0x10000) : 0;
      body = r.chance(0.85) ? this.quotedIpv4() : this.payload(used + 8);
    } else {
      rest = r.u32();
      body = this.payload(used + 8);
    }
    const bytes = icmp({ type, code, rest }, body);
    if (!r.chance(0.9)) this.breakChecksum(bytes, 2, () => internetChecksum(bytes) === 0);
    const checksumOk = internetChecksum(bytes) === 0;
    return { bytes, layers: [{ kind: 'icmp', offset: 0, length: 8, valid: checksumOk, checksumOk }] };
  }

  private icmpv6(ph: PseudoHeader, used: number): Built {
    const r = this.rng;
    const type = this.h8(() => {
      const k = r.int(100);
      if (k < 30) return 128; // echo request
      if (k < 48) return 129; // echo reply
      if (k < 68) return r.pick([133, 134, 135, 135, 136, 136, 137]); // neighbour discovery
      if (k < 86) return r.pick([1, 2, 3, 4]); // errors
      if (k < 93) return r.pick([130, 131, 132, 143]); // multicast listener
      return r.int(256);
    });
    const code = this.h8(() => (type === 1 ? r.int(8) : type === 3 ? r.int(2) : type === 4 ? r.int(4) : r.chance(0.95) ? 0 : r.int(256)));
    const lladdr = (optType: number): Uint8Array => Uint8Array.of(optType, 1, ...this.mac(true));
    let rest = 0;
    let body: Uint8Array;
    if (type === 128 || type === 129) {
      rest = ((this.h16(() => r.int(0x10000)) << 16) | this.h16(() => r.int(0x10000))) >>> 0;
      body = this.payload(used + 8);
    } else if (type >= 1 && type <= 4) {
      rest = type === 2 ? this.h32(() => r.pick([1280, 1500, 9000, r.u32()])) : type === 4 ? r.int(256) : 0;
      const quoted = ipv6({ nextHeader: r.pick([6, 17, 58]), src: this.ipv6Addr(), dst: this.ipv6Addr() }, r.bytes(8));
      body = r.chance(0.85) ? quoted : this.payload(used + 8);
    } else if (type === 135) {
      body = concatBytes(this.ipv6Addr(), r.chance(0.7) ? lladdr(1) : new Uint8Array(0)); // target, source link-layer address
    } else if (type === 136) {
      rest = (r.int(8) << 29) >>> 0; // router, solicited, override
      body = concatBytes(this.ipv6Addr(), r.chance(0.7) ? lladdr(2) : new Uint8Array(0));
    } else if (type === 133) {
      body = r.chance(0.5) ? lladdr(1) : new Uint8Array(0);
    } else if (type === 134) {
      rest = ((r.int(256) << 24) | (r.int(256) << 16) | r.int(0x10000)) >>> 0; // hop limit, flags, lifetime
      body = concatBytes(r.bytes(8), r.chance(0.6) ? lladdr(1) : new Uint8Array(0));
    } else if (type === 137) {
      body = concatBytes(this.ipv6Addr(), this.ipv6Addr());
    } else {
      rest = r.u32();
      body = this.payload(used + 8);
    }
    if (r.chance(0.05) && body.length > 0) body = body.subarray(0, r.int(body.length)); // a message cut short
    const bytes = icmpv6({ type, code, rest }, body, ph);
    const verify = (): boolean => internetChecksum(pseudoHeaderBytes(ph, IPPROTO.ICMPV6, bytes.length), bytes) === 0;
    if (!r.chance(0.9)) this.breakChecksum(bytes, 2, verify);
    const checksumOk = verify();
    return { bytes, layers: [{ kind: 'icmpv6', offset: 0, length: 8, valid: checksumOk, checksumOk }] };
  }

  // -- the whole packet ------------------------------------------------------

  packet(): GeneratedPacket {
    const r = this.rng;
    const max = this.maxLength;
    if (r.chance(0.04)) {
      // Very short packets: random bytes, or the start of a real frame.
      const n = Math.min(max, r.int(61));
      if (r.chance(0.5)) {
        const packet = r.bytes(n);
        return { packet, layers: [], builtLength: n, truncated: false, noise: true };
      }
      const f = this.frame();
      const packet = f.bytes.slice(0, n);
      return { packet, layers: f.layers, builtLength: f.bytes.length, truncated: packet.length < f.bytes.length, noise: false };
    }

    const f = this.frame();
    let bytes = f.bytes;
    // Short frames are usually padded to the Ethernet minimum on the wire.
    const minimum = Math.min(60, max);
    if (bytes.length < minimum && r.chance(0.3)) bytes = concatBytes(bytes, new Uint8Array(minimum - bytes.length));
    let builtLength = bytes.length;
    let length = bytes.length;
    // A length the program compares against: cut to it or pad to it.
    if (this.lengths.length > 0 && r.chance(0.08)) {
      const target = r.pick(this.lengths);
      if (target > bytes.length) {
        bytes = concatBytes(bytes, new Uint8Array(target - bytes.length));
        builtLength = bytes.length;
      }
      length = target;
    }
    // Truncation, often right around a header boundary.
    if (length > 0 && r.chance(0.08)) {
      let cut: number;
      if (f.layers.length > 0 && r.chance(0.6)) {
        const l = r.pick(f.layers);
        cut = (r.chance(0.5) ? l.offset : l.offset + l.length) + r.range(-2, 2);
      } else cut = r.int(length);
      length = Math.max(0, Math.min(length - 1, cut));
    }
    length = Math.min(length, max);
    const packet = bytes.slice(0, length);
    return { packet, layers: f.layers, builtLength, truncated: length < builtLength, noise: false };
  }
}

/**
 * A deterministic stream of random packets for `seed`: the same seed gives the
 * same packets, on any platform. `hints` steer fields toward the constants the
 * program branches on; `maxLength` (default 1514) bounds every packet.
 */
export function createPacketGenerator(opts: PacketGeneratorOptions): PacketGenerator {
  const maxLength = opts.maxLength ?? 1514;
  if (!Number.isInteger(maxLength) || maxLength < 0) throw new RangeError(`maxLength must be a non-negative integer, got ${maxLength}`);
  const builder = new FrameBuilder(createRng(opts.seed), opts.hints ?? {}, maxLength);
  return {
    next: () => builder.packet().packet,
    nextWithInfo: () => builder.packet(),
  };
}

/**
 * Packet headers as bytes, for the validator's random packets and for hand-made
 * ones in tests: Ethernet II with IEEE 802.1Q / 802.1ad tags, ARP (RFC 826), IPv4 with
 * options (RFC 791; the checksum of RFC 1071), IPv6 and its extension headers
 * (RFC 8200; segment routing RFC 8754), TCP with options (RFC 793, 2018, 7323), UDP
 * (RFC 768), ICMP (RFC 792), ICMPv6 (RFC 4443, 4861). Every field is the caller's:
 * these functions lay bytes out and compute checksums, they choose nothing.
 */
import { concatBytes } from '../../xdp/bytes/concat.js';

// ---------------------------------------------------------------------------
// Numbers, byte helpers and the internet checksum
// ---------------------------------------------------------------------------

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  IPV6: 0x86dd,
} as const;

export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
} as const;

/** TCP flag bits (byte 13 of the header). */
export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export function put16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 8) & 0xff;
  buf[at + 1] = v & 0xff;
}

export function put32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 24) & 0xff;
  buf[at + 1] = (v >>> 16) & 0xff;
  buf[at + 2] = (v >>> 8) & 0xff;
  buf[at + 3] = v & 0xff;
}

function putBytes(buf: Uint8Array, at: number, src: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) buf[at + i] = (src[i] ?? 0) & 0xff;
}

export { concatBytes };

/** An IPv4 address (a 32-bit number) as its four bytes in network order. */
export function ipv4Bytes(addr: number): Uint8Array {
  const out = new Uint8Array(4);
  put32(out, 0, addr >>> 0);
  return out;
}

/**
 * The internet checksum (RFC 1071) of the parts taken as one byte string: the
 * one's complement of the one's complement sum of its 16-bit words, an odd last
 * byte padded with zero. A region that carries a correct checksum yields 0.
 */
export function internetChecksum(...parts: readonly Uint8Array[]): number {
  const data = parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(...parts);
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += ((data[i] as number) << 8) | (data[i + 1] as number);
  if (data.length % 2 === 1) sum += (data[data.length - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Source and destination addresses for a transport checksum: 4 bytes each (IPv4) or 16 (IPv6). */
export interface PseudoHeader {
  src: Uint8Array;
  dst: Uint8Array;
}

/** The pseudo-header a TCP/UDP/ICMPv6 checksum covers: RFC 793 §3.1 (IPv4) or RFC 8200 §8.1 (IPv6). */
export function pseudoHeaderBytes(ph: PseudoHeader, protocol: number, length: number): Uint8Array {
  if (ph.src.length === 4) {
    const out = new Uint8Array(12);
    putBytes(out, 0, ph.src, 4);
    putBytes(out, 4, ph.dst, 4);
    out[9] = protocol & 0xff;
    put16(out, 10, length & 0xffff);
    return out;
  }
  const out = new Uint8Array(40);
  putBytes(out, 0, ph.src, 16);
  putBytes(out, 16, ph.dst, 16);
  put32(out, 32, length >>> 0);
  out[39] = protocol & 0xff;
  return out;
}

// ---------------------------------------------------------------------------
// Building blocks: one header each, every field settable, also to wrong values
// ---------------------------------------------------------------------------

/** One VLAN tag: TPID (0x8100 for 802.1Q, 0x88a8 for 802.1ad) and the TCI fields. */
export interface VlanTag {
  tpid: number;
  pcp?: number;
  dei?: boolean;
  vid: number;
}

export interface EthernetFields {
  dst: ArrayLike<number>;
  src: ArrayLike<number>;
  /** Outermost first. */
  tags?: readonly VlanTag[];
  etherType: number;
}

/** Ethernet II header with its VLAN tags: 14 + 4 × tags bytes. */
export function ethernet(f: EthernetFields): Uint8Array {
  const tags = f.tags ?? [];
  const out = new Uint8Array(14 + 4 * tags.length);
  putBytes(out, 0, f.dst, 6);
  putBytes(out, 6, f.src, 6);
  tags.forEach((t, i) => {
    put16(out, 12 + 4 * i, t.tpid);
    put16(out, 14 + 4 * i, (((t.pcp ?? 0) & 7) << 13) | (t.dei ? 0x1000 : 0) | (t.vid & 0xfff));
  });
  put16(out, 12 + 4 * tags.length, f.etherType);
  return out;
}

export interface ArpFields {
  htype?: number;
  ptype?: number;
  hlen?: number;
  plen?: number;
  op: number;
  sha: ArrayLike<number>;
  spa: number;
  tha: ArrayLike<number>;
  tpa: number;
}

/** ARP packet in the Ethernet/IPv4 layout (RFC 826): always 28 bytes, whatever hlen/plen say. */
export function arp(f: ArpFields): Uint8Array {
  const out = new Uint8Array(28);
  put16(out, 0, f.htype ?? 1);
  put16(out, 2, f.ptype ?? ETHERTYPE.IPV4);
  out[4] = (f.hlen ?? 6) & 0xff;
  out[5] = (f.plen ?? 4) & 0xff;
  put16(out, 6, f.op);
  putBytes(out, 8, f.sha, 6);
  put32(out, 14, f.spa >>> 0);
  putBytes(out, 18, f.tha, 6);
  put32(out, 24, f.tpa >>> 0);
  return out;
}

export interface Ipv4Fields {
  /** Default 4. */
  version?: number;
  /** Default (20 + options) / 4; any 4-bit value may be forced. */
  ihl?: number;
  tos?: number;
  /** Default: header + payload length. */
  totalLength?: number;
  id?: number;
  /** 3 bits: reserved, DF, MF. */
  flags?: number;
  /** 13 bits, in 8-byte units. */
  fragOffset?: number;
  ttl?: number;
  protocol: number;
  /** Default: the correct header checksum. */
  checksum?: number;
  src: number;
  dst: number;
  /** Options; zero-padded to a multiple of 4 bytes. */
  options?: Uint8Array;
}

/** IPv4 header (RFC 791 §3.1) followed by `payload`. */
export function ipv4(f: Ipv4Fields, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const opts = f.options ?? new Uint8Array(0);
  const optLen = Math.ceil(opts.length / 4) * 4;
  const hdrLen = 20 + optLen;
  const out = new Uint8Array(hdrLen + payload.length);
  out[0] = (((f.version ?? 4) & 0xf) << 4) | ((f.ihl ?? hdrLen / 4) & 0xf);
  out[1] = (f.tos ?? 0) & 0xff;
  put16(out, 2, f.totalLength ?? hdrLen + payload.length);
  put16(out, 4, f.id ?? 0);
  put16(out, 6, (((f.flags ?? 0) & 7) << 13) | ((f.fragOffset ?? 0) & 0x1fff));
  out[8] = (f.ttl ?? 64) & 0xff;
  out[9] = f.protocol & 0xff;
  put32(out, 12, f.src >>> 0);
  put32(out, 16, f.dst >>> 0);
  out.set(opts, 20);
  put16(out, 10, f.checksum ?? internetChecksum(out.subarray(0, hdrLen)));
  out.set(payload, hdrLen);
  return out;
}

export interface Ipv6Fields {
  /** Default 6. */
  version?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Default: payload length (extension headers included). */
  payloadLength?: number;
  nextHeader: number;
  hopLimit?: number;
  src: ArrayLike<number>;
  dst: ArrayLike<number>;
}

/** IPv6 header (RFC 8200 §3) followed by `payload` (extension headers and upper layer). */
export function ipv6(f: Ipv6Fields, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(40 + payload.length);
  const tc = (f.trafficClass ?? 0) & 0xff;
  put32(out, 0, ((((f.version ?? 6) & 0xf) << 28) | (tc << 20) | ((f.flowLabel ?? 0) & 0xfffff)) >>> 0);
  put16(out, 4, f.payloadLength ?? payload.length);
  out[6] = f.nextHeader & 0xff;
  out[7] = (f.hopLimit ?? 64) & 0xff;
  putBytes(out, 8, f.src, 16);
  putBytes(out, 24, f.dst, 16);
  out.set(payload, 40);
  return out;
}

/**
 * Hop-by-hop or destination options header (RFC 8200 §4.3, §4.6): next header,
 * header extension length, then the option TLVs, padded with Pad1/PadN to a
 * multiple of 8 bytes.
 */
export function ipv6OptionsHeader(nextHeader: number, options: Uint8Array = new Uint8Array(0)): Uint8Array {
  const total = Math.max(8, Math.ceil((options.length + 2) / 8) * 8);
  const out = new Uint8Array(total);
  out[0] = nextHeader & 0xff;
  out[1] = total / 8 - 1;
  out.set(options, 2);
  writeIpv6Padding(out, 2 + options.length, total - 2 - options.length);
  return out;
}

export function writeIpv6Padding(buf: Uint8Array, at: number, n: number): void {
  if (n === 1) buf[at] = 0; // Pad1
  else if (n >= 2) {
    buf[at] = 1; // PadN
    buf[at + 1] = n - 2;
    buf.fill(0, at + 2, at + n);
  }
}

/**
 * Routing header (RFC 8200 §4.4): next header, header extension length, routing
 * type, segments left, then `data` (type-specific, zero-padded so that the
 * header is a multiple of 8 bytes).
 */
export function ipv6RoutingHeader(
  nextHeader: number,
  routingType: number,
  segmentsLeft: number,
  data: Uint8Array = new Uint8Array(4),
): Uint8Array {
  const total = Math.max(8, Math.ceil((data.length + 4) / 8) * 8);
  const out = new Uint8Array(total);
  out[0] = nextHeader & 0xff;
  out[1] = total / 8 - 1;
  out[2] = routingType & 0xff;
  out[3] = segmentsLeft & 0xff;
  out.set(data, 4);
  return out;
}

/** Fragment header (RFC 8200 §4.5): 8 bytes. `fragOffset` in 8-byte units (13 bits). */
export function ipv6FragmentHeader(
  nextHeader: number,
  fragOffset: number,
  more: boolean,
  identification: number,
  reserved = 0,
): Uint8Array {
  const out = new Uint8Array(8);
  out[0] = nextHeader & 0xff;
  out[1] = reserved & 0xff;
  put16(out, 2, ((fragOffset & 0x1fff) << 3) | (more ? 1 : 0));
  put32(out, 4, identification >>> 0);
  return out;
}

export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** Default (20 + options) / 4; any 4-bit value may be forced. */
  dataOffset?: number;
  /** The 4 low bits of byte 12 (reserved, and the old NS bit). */
  reserved?: number;
  flags: number;
  window?: number;
  /** Default: correct when a pseudo-header is given, else 0. */
  checksum?: number;
  urgent?: number;
  /** Options; zero-padded (EOL) to a multiple of 4 bytes. */
  options?: Uint8Array;
}

/** TCP header (RFC 793 §3.1) followed by `payload`. */
export function tcp(f: TcpFields, payload: Uint8Array = new Uint8Array(0), pseudo?: PseudoHeader): Uint8Array {
  const opts = f.options ?? new Uint8Array(0);
  const hdrLen = 20 + Math.ceil(opts.length / 4) * 4;
  const out = new Uint8Array(hdrLen + payload.length);
  put16(out, 0, f.srcPort);
  put16(out, 2, f.dstPort);
  put32(out, 4, (f.seq ?? 0) >>> 0);
  put32(out, 8, (f.ack ?? 0) >>> 0);
  out[12] = (((f.dataOffset ?? hdrLen / 4) & 0xf) << 4) | ((f.reserved ?? 0) & 0xf);
  out[13] = f.flags & 0xff;
  put16(out, 14, f.window ?? 0xffff);
  put16(out, 18, f.urgent ?? 0);
  out.set(opts, 20);
  out.set(payload, hdrLen);
  const sum = pseudo ? internetChecksum(pseudoHeaderBytes(pseudo, IPPROTO.TCP, out.length), out) : 0;
  put16(out, 16, f.checksum ?? sum);
  return out;
}

export interface UdpFields {
  srcPort: number;
  dstPort: number;
  /** Default: 8 + payload length. */
  length?: number;
  /** Default: correct when a pseudo-header is given (0 computed is sent as 0xffff), else 0. */
  checksum?: number;
}

/** UDP header (RFC 768) followed by `payload`. */
export function udp(f: UdpFields, payload: Uint8Array = new Uint8Array(0), pseudo?: PseudoHeader): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  put16(out, 0, f.srcPort);
  put16(out, 2, f.dstPort);
  put16(out, 4, f.length ?? out.length);
  out.set(payload, 8);
  let sum = 0;
  if (pseudo) {
    sum = internetChecksum(pseudoHeaderBytes(pseudo, IPPROTO.UDP, out.length), out);
    if (sum === 0) sum = 0xffff;
  }
  put16(out, 6, f.checksum ?? sum);
  return out;
}

export interface IcmpFields {
  type: number;
  code: number;
  /** Default: correct. */
  checksum?: number;
  /** Bytes 4..7 ("rest of header": identifier/sequence, gateway, pointer, MTU...). */
  rest?: number;
}

/** ICMP message (RFC 792): type, code, checksum over the whole message, rest of header, body. */
export function icmp(f: IcmpFields, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  out[0] = f.type & 0xff;
  out[1] = f.code & 0xff;
  put32(out, 4, (f.rest ?? 0) >>> 0);
  out.set(body, 8);
  put16(out, 2, f.checksum ?? internetChecksum(out));
  return out;
}

/** ICMPv6 message (RFC 4443 §2.1); the checksum also covers the IPv6 pseudo-header when given. */
export function icmpv6(f: IcmpFields, body: Uint8Array = new Uint8Array(0), pseudo?: PseudoHeader): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  out[0] = f.type & 0xff;
  out[1] = f.code & 0xff;
  put32(out, 4, (f.rest ?? 0) >>> 0);
  out.set(body, 8);
  const sum = pseudo ? internetChecksum(pseudoHeaderBytes(pseudo, IPPROTO.ICMPV6, out.length), out) : 0;
  put16(out, 2, f.checksum ?? sum);
  return out;
}


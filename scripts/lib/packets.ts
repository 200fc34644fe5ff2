/**
 * Small packet builders for test captures: Ethernet with 802.1Q / 802.1ad tags,
 * ARP, IPv4 (header checksum, fragment fields, options), IPv6 with extension
 * headers, TCP and UDP with pseudo-header checksums, ICMP and ICMPv6, IP-in-IP.
 *
 * Each builder is a plain function that returns the bytes of one layer with
 * its payload appended; every length and checksum field is computed unless an
 * override asks for a wrong value on purpose (to make malformed packets).
 * Addresses are given as text ("10.0.0.1", "fd00::1", "02:00:00:00:00:01").
 */
import { concatBytes } from '../../xdp/bytes/concat.js';

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_IPV6 = 0x86dd;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const ETH_HEADER_BYTES = 14;
export const VLAN_TAG_BYTES = 4;
export const IPV4_HEADER_BYTES = 20;
export const IPV6_HEADER_BYTES = 40;
export const UDP_HEADER_BYTES = 8;
export const TCP_HEADER_BYTES = 20;

// ---------------------------------------------------------------- bytes


export { concatBytes };

function put16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 8) & 0xff;
  buf[at + 1] = value & 0xff;
}

function put32(buf: Uint8Array, at: number, value: number): void {
  put16(buf, at, (value >>> 16) & 0xffff);
  put16(buf, at + 2, value & 0xffff);
}

function checkRange(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} must be an integer in 0..${max}, got ${value}`);
  }
  return value;
}

// ---------------------------------------------------------------- addresses

export function macAddress(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new RangeError(`bad MAC address ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function ipv4Address(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new RangeError(`bad IPv4 address ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts.map(Number));
}

/** IPv6 text with "::" compression (no embedded IPv4 form). */
export function ipv6Address(text: string): Uint8Array {
  const bad = (): never => {
    throw new RangeError(`bad IPv6 address ${JSON.stringify(text)}`);
  };
  const halves = text.split('::');
  if (halves.length > 2) bad();
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) bad();
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) bad();
    put16(out, i * 2, parseInt(g, 16));
  });
  return out;
}

type Address = string | Uint8Array;
const mac = (a: Address): Uint8Array => (typeof a === 'string' ? macAddress(a) : a);
const ip4 = (a: Address): Uint8Array => (typeof a === 'string' ? ipv4Address(a) : a);
const ip6 = (a: Address): Uint8Array => (typeof a === 'string' ? ipv6Address(a) : a);

// ---------------------------------------------------------------- checksums

/** The 16-bit one's-complement sum of `data` (big-endian words, odd byte padded), folded, not inverted. */
export function onesComplementSum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < data.length; i += 2) sum += ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  if (data.length % 2 === 1) sum += (data[data.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The Internet checksum (RFC 1071) of `data`: the value to store in a checksum field. */
export function internetChecksum(data: Uint8Array, initial = 0): number {
  return ~onesComplementSum(data, initial) & 0xffff;
}

/** Pseudo-header for a TCP/UDP/ICMPv6 checksum: 4-byte addresses for IPv4, 16-byte for IPv6. */
export interface PseudoHeader {
  readonly src: Address;
  readonly dst: Address;
}

function pseudoHeaderSum(pseudo: PseudoHeader, protocol: number, length: number): number {
  const src = typeof pseudo.src === 'string' ? (pseudo.src.includes(':') ? ip6(pseudo.src) : ip4(pseudo.src)) : pseudo.src;
  const dst = typeof pseudo.dst === 'string' ? (pseudo.dst.includes(':') ? ip6(pseudo.dst) : ip4(pseudo.dst)) : pseudo.dst;
  if (src.length !== dst.length || (src.length !== 4 && src.length !== 16)) {
    throw new RangeError('pseudo-header addresses must both be IPv4 or both IPv6');
  }
  const tail = new Uint8Array(src.length === 4 ? 4 : 8);
  if (src.length === 4) {
    tail[1] = protocol;
    put16(tail, 2, length);
  } else {
    put32(tail, 0, length);
    tail[7] = protocol;
  }
  return onesComplementSum(concatBytes(src, dst, tail));
}

// ---------------------------------------------------------------- Ethernet

export interface VlanTag {
  /** Tag protocol identifier: 0x8100 (802.1Q C-tag, default) or 0x88a8 (802.1ad S-tag). */
  readonly tpid?: number;
  readonly vid: number;
  readonly pcp?: number;
  readonly dei?: boolean;
}

export interface EthernetOptions {
  readonly dst: Address;
  readonly src: Address;
  /** EtherType of the payload (after the tags). */
  readonly etherType: number;
  /** Tags, outermost first. */
  readonly vlans?: readonly VlanTag[];
}

export function ethernet(opts: EthernetOptions, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const tags = opts.vlans ?? [];
  const header = new Uint8Array(ETH_HEADER_BYTES + tags.length * VLAN_TAG_BYTES);
  header.set(mac(opts.dst), 0);
  header.set(mac(opts.src), 6);
  let at = 12;
  for (const tag of tags) {
    put16(header, at, tag.tpid ?? ETH_P_8021Q);
    const pcp = checkRange(tag.pcp ?? 0, 7, 'VLAN PCP');
    const vid = checkRange(tag.vid, 0xfff, 'VLAN id');
    put16(header, at + 2, (pcp << 13) | (tag.dei ? 0x1000 : 0) | vid);
    at += VLAN_TAG_BYTES;
  }
  put16(header, at, checkRange(opts.etherType, 0xffff, 'EtherType'));
  return concatBytes(header, payload);
}

// ---------------------------------------------------------------- ARP

export interface ArpOptions {
  /** 1 request, 2 reply. */
  readonly op: number;
  readonly senderMac: Address;
  readonly senderIp: Address;
  readonly targetMac: Address;
  readonly targetIp: Address;
}

/** An ARP packet for Ethernet/IPv4 (28 bytes). */
export function arp(opts: ArpOptions): Uint8Array {
  const out = new Uint8Array(28);
  put16(out, 0, 1); // hardware type: Ethernet
  put16(out, 2, ETH_P_IP);
  out[4] = 6;
  out[5] = 4;
  put16(out, 6, opts.op);
  out.set(mac(opts.senderMac), 8);
  out.set(ip4(opts.senderIp), 14);
  out.set(mac(opts.targetMac), 18);
  out.set(ip4(opts.targetIp), 24);
  return out;
}

// ---------------------------------------------------------------- IPv4

export interface Ipv4Options {
  readonly src: Address;
  readonly dst: Address;
  readonly protocol: number;
  readonly ttl?: number;
  readonly tos?: number;
  readonly id?: number;
  readonly dontFragment?: boolean;
  readonly moreFragments?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  readonly fragmentOffset?: number;
  /** Option bytes; padded with zeros (end of options) to a multiple of 4. */
  readonly options?: Uint8Array;
  /** Write this total length instead of the real one. */
  readonly totalLength?: number;
  /** Write this IHL instead of the real one. */
  readonly ihl?: number;
  /** Write this checksum instead of the right one. */
  readonly checksum?: number;
}

export function ipv4(opts: Ipv4Options, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const rawOptions = opts.options ?? new Uint8Array(0);
  const optionBytes = Math.ceil(rawOptions.length / 4) * 4;
  const headerLen = IPV4_HEADER_BYTES + optionBytes;
  if (headerLen > 60) throw new RangeError('IPv4 options longer than 40 bytes');
  const fragmentOffset = opts.fragmentOffset ?? 0;
  if (fragmentOffset % 8 !== 0) throw new RangeError('IPv4 fragment offset must be a multiple of 8 bytes');
  const header = new Uint8Array(headerLen);
  const ihl = checkRange(opts.ihl ?? headerLen / 4, 15, 'IHL');
  header[0] = 0x40 | ihl;
  header[1] = checkRange(opts.tos ?? 0, 0xff, 'TOS');
  put16(header, 2, checkRange(opts.totalLength ?? headerLen + payload.length, 0xffff, 'IPv4 total length'));
  put16(header, 4, checkRange(opts.id ?? 0, 0xffff, 'IPv4 id'));
  const flags = (opts.dontFragment ? 0x4000 : 0) | (opts.moreFragments ? 0x2000 : 0);
  put16(header, 6, flags | checkRange(fragmentOffset / 8, 0x1fff, 'fragment offset / 8'));
  header[8] = checkRange(opts.ttl ?? 64, 0xff, 'TTL');
  header[9] = checkRange(opts.protocol, 0xff, 'protocol');
  header.set(ip4(opts.src), 12);
  header.set(ip4(opts.dst), 16);
  header.set(rawOptions, IPV4_HEADER_BYTES);
  put16(header, 10, opts.checksum ?? internetChecksum(header));
  return concatBytes(header, payload);
}

/**
 * Splits an IPv4 payload (the L4 header and data) into fragments carrying at
 * most `maxFragmentPayload` bytes each (rounded down to a multiple of 8).
 */
export function ipv4Fragments(opts: Ipv4Options, payload: Uint8Array, maxFragmentPayload: number): Uint8Array[] {
  const step = Math.floor(maxFragmentPayload / 8) * 8;
  if (step <= 0) throw new RangeError('fragment payload must be at least 8 bytes');
  const out: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += step) {
    const last = at + step >= payload.length;
    out.push(ipv4({ ...opts, fragmentOffset: at, moreFragments: !last }, payload.subarray(at, at + step)));
  }
  return out;
}

/** IP-in-IP (RFC 2003): an outer IPv4 header, protocol 4, around an IPv4 packet. */
export function ipip(outer: Omit<Ipv4Options, 'protocol'>, inner: Uint8Array): Uint8Array {
  return ipv4({ ...outer, protocol: IPPROTO_IPIP }, inner);
}

// ---------------------------------------------------------------- IPv6

/** A TLV option of a hop-by-hop or destination-options header. */
export interface Ipv6Option {
  readonly type: number;
  readonly data: Uint8Array;
}

export type Ipv6Extension =
  | { readonly kind: 'hop-by-hop' | 'destination'; readonly options?: readonly Ipv6Option[] }
  | {
      readonly kind: 'routing';
      readonly routingType: number;
      readonly segmentsLeft: number;
      /** Addresses after the 4 reserved bytes (types 0 and 2 layout). */
      readonly addresses: readonly Address[];
    }
  | {
      readonly kind: 'fragment';
      /** Offset in bytes (a multiple of 8). */
      readonly offset?: number;
      readonly moreFragments?: boolean;
      readonly identification: number;
    }
  | { readonly kind: 'ah'; readonly spi: number; readonly sequence: number; readonly icv?: Uint8Array };

export function ipv6ExtensionProtocol(ext: Ipv6Extension): number {
  switch (ext.kind) {
    case 'hop-by-hop':
      return IPPROTO_HOPOPTS;
    case 'destination':
      return IPPROTO_DSTOPTS;
    case 'routing':
      return IPPROTO_ROUTING;
    case 'fragment':
      return IPPROTO_FRAGMENT;
    case 'ah':
      return IPPROTO_AH;
  }
}

/** Options padded with Pad1/PadN so that the 2-byte header plus options fill 8-byte units. */
function encodeOptions(options: readonly Ipv6Option[]): Uint8Array {
  const tlvs = options.map((o) => {
    if (o.type === 0) return new Uint8Array([0]); // Pad1 has no length byte
    return concatBytes(new Uint8Array([o.type, checkRange(o.data.length, 0xff, 'option length')]), o.data);
  });
  const body = concatBytes(...tlvs);
  const pad = (8 - ((2 + body.length) % 8)) % 8;
  if (pad === 0) return body;
  const padding = pad === 1 ? new Uint8Array([0]) : concatBytes(new Uint8Array([1, pad - 2]), new Uint8Array(pad - 2));
  return concatBytes(body, padding);
}

/** One extension header whose "next header" field is `next`. */
export function ipv6Extension(ext: Ipv6Extension, next: number): Uint8Array {
  switch (ext.kind) {
    case 'hop-by-hop':
    case 'destination': {
      const body = encodeOptions(ext.options ?? []);
      return concatBytes(new Uint8Array([next, (2 + body.length) / 8 - 1]), body);
    }
    case 'routing': {
      const addrs = ext.addresses.map(ip6);
      const head = new Uint8Array(8);
      head[0] = next;
      head[1] = addrs.length * 2;
      head[2] = checkRange(ext.routingType, 0xff, 'routing type');
      head[3] = checkRange(ext.segmentsLeft, 0xff, 'segments left');
      return concatBytes(head, ...addrs);
    }
    case 'fragment': {
      const out = new Uint8Array(8);
      const offset = ext.offset ?? 0;
      if (offset % 8 !== 0) throw new RangeError('IPv6 fragment offset must be a multiple of 8 bytes');
      out[0] = next;
      put16(out, 2, (checkRange(offset / 8, 0x1fff, 'fragment offset / 8') << 3) | (ext.moreFragments ? 1 : 0));
      put32(out, 4, ext.identification);
      return out;
    }
    case 'ah': {
      const icv = ext.icv ?? new Uint8Array(12);
      const total = 12 + icv.length;
      if (total % 8 !== 0) throw new RangeError('IPv6 AH length must be a multiple of 8 bytes');
      const head = new Uint8Array(12);
      head[0] = next;
      head[1] = total / 4 - 2;
      put32(head, 4, ext.spi);
      put32(head, 8, ext.sequence);
      return concatBytes(head, icv);
    }
  }
}

export interface Ipv6Options {
  readonly src: Address;
  readonly dst: Address;
  /** Protocol of the payload after the last extension header. */
  readonly nextHeader: number;
  readonly hopLimit?: number;
  readonly trafficClass?: number;
  readonly flowLabel?: number;
  /** Extension headers in wire order. */
  readonly extensions?: readonly Ipv6Extension[];
  /** Write this payload length instead of the real one. */
  readonly payloadLength?: number;
}

export function ipv6(opts: Ipv6Options, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const exts = opts.extensions ?? [];
  const encoded = exts.map((ext, i) => {
    const following = exts[i + 1];
    return ipv6Extension(ext, following ? ipv6ExtensionProtocol(following) : opts.nextHeader);
  });
  const first = exts[0];
  const afterHeader = concatBytes(...encoded, payload);
  const header = new Uint8Array(IPV6_HEADER_BYTES);
  const tc = checkRange(opts.trafficClass ?? 0, 0xff, 'traffic class');
  const flow = checkRange(opts.flowLabel ?? 0, 0xfffff, 'flow label');
  put32(header, 0, ((6 << 28) | (tc << 20) | flow) >>> 0);
  put16(header, 4, checkRange(opts.payloadLength ?? afterHeader.length, 0xffff, 'IPv6 payload length'));
  header[6] = first ? ipv6ExtensionProtocol(first) : opts.nextHeader;
  header[7] = checkRange(opts.hopLimit ?? 64, 0xff, 'hop limit');
  header.set(ip6(opts.src), 8);
  header.set(ip6(opts.dst), 24);
  return concatBytes(header, afterHeader);
}

/**
 * The addresses an upper-layer checksum covers (RFC 8200 §8.1): the source and
 * the final destination, which is the last address of a routing header that
 * still has segments left.
 */
export function ipv6PseudoHeader(opts: Pick<Ipv6Options, 'src' | 'dst' | 'extensions'>): PseudoHeader {
  let dst = opts.dst;
  for (const ext of opts.extensions ?? []) {
    const last = ext.kind === 'routing' && ext.segmentsLeft > 0 ? ext.addresses[ext.addresses.length - 1] : undefined;
    if (last !== undefined) dst = last;
  }
  return { src: opts.src, dst };
}

// ---------------------------------------------------------------- L4

export interface UdpOptions {
  readonly srcPort: number;
  readonly dstPort: number;
  /** Write this checksum instead of the right one (0 = none, allowed over IPv4 only). */
  readonly checksum?: number;
  /** Write this length instead of the real one. */
  readonly length?: number;
}

export function udp(opts: UdpOptions, payload: Uint8Array, pseudo: PseudoHeader): Uint8Array {
  const header = new Uint8Array(UDP_HEADER_BYTES);
  put16(header, 0, checkRange(opts.srcPort, 0xffff, 'port'));
  put16(header, 2, checkRange(opts.dstPort, 0xffff, 'port'));
  const realLength = UDP_HEADER_BYTES + payload.length;
  put16(header, 4, checkRange(opts.length ?? realLength, 0xffff, 'UDP length'));
  const segment = concatBytes(header, payload);
  let sum = opts.checksum;
  if (sum === undefined) {
    sum = internetChecksum(segment, pseudoHeaderSum(pseudo, IPPROTO_UDP, realLength));
    if (sum === 0) sum = 0xffff; // 0 means "no checksum" in UDP
  }
  put16(segment, 6, sum);
  return segment;
}

export interface TcpOptions {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq?: number;
  readonly ack?: number;
  /** TCP_* flag bits; SYN by default. */
  readonly flags?: number;
  readonly window?: number;
  /** Option bytes; padded with zeros to a multiple of 4. */
  readonly options?: Uint8Array;
  /** Write this checksum instead of the right one. */
  readonly checksum?: number;
}

export function tcp(opts: TcpOptions, payload: Uint8Array, pseudo: PseudoHeader): Uint8Array {
  const rawOptions = opts.options ?? new Uint8Array(0);
  const headerLen = TCP_HEADER_BYTES + Math.ceil(rawOptions.length / 4) * 4;
  if (headerLen > 60) throw new RangeError('TCP options longer than 40 bytes');
  const header = new Uint8Array(headerLen);
  put16(header, 0, checkRange(opts.srcPort, 0xffff, 'port'));
  put16(header, 2, checkRange(opts.dstPort, 0xffff, 'port'));
  put32(header, 4, checkRange(opts.seq ?? 0, 0xffffffff, 'sequence number'));
  put32(header, 8, checkRange(opts.ack ?? 0, 0xffffffff, 'acknowledgement number'));
  header[12] = (headerLen / 4) << 4;
  header[13] = checkRange(opts.flags ?? TCP_SYN, 0xff, 'TCP flags');
  put16(header, 14, checkRange(opts.window ?? 65535, 0xffff, 'window'));
  header.set(rawOptions, TCP_HEADER_BYTES);
  const segment = concatBytes(header, payload);
  put16(segment, 16, opts.checksum ?? internetChecksum(segment, pseudoHeaderSum(pseudo, IPPROTO_TCP, segment.length)));
  return segment;
}

export interface IcmpOptions {
  readonly type: number;
  readonly code?: number;
  /** The 4 bytes after the checksum (identifier and sequence for echo). */
  readonly rest?: number;
}

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_NEIGHBOR_SOLICIT = 135;
export const ICMPV6_NEIGHBOR_ADVERT = 136;

function icmpHeader(opts: IcmpOptions): Uint8Array {
  const header = new Uint8Array(8);
  header[0] = checkRange(opts.type, 0xff, 'ICMP type');
  header[1] = checkRange(opts.code ?? 0, 0xff, 'ICMP code');
  put32(header, 4, checkRange(opts.rest ?? 0, 0xffffffff, 'ICMP rest of header'));
  return header;
}

/** ICMP for IPv4: the checksum covers the message only. */
export function icmpv4(opts: IcmpOptions, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const msg = concatBytes(icmpHeader(opts), payload);
  put16(msg, 2, internetChecksum(msg));
  return msg;
}

/** ICMPv6: the checksum also covers the IPv6 pseudo-header. */
export function icmpv6(opts: IcmpOptions, payload: Uint8Array, pseudo: PseudoHeader): Uint8Array {
  const msg = concatBytes(icmpHeader(opts), payload);
  put16(msg, 2, internetChecksum(msg, pseudoHeaderSum(pseudo, IPPROTO_ICMPV6, msg.length)));
  return msg;
}

/** Echo identifier and sequence packed into an ICMP "rest of header" word. */
export function echoRest(identifier: number, sequence: number): number {
  return ((checkRange(identifier, 0xffff, 'echo identifier') << 16) | checkRange(sequence, 0xffff, 'echo sequence')) >>> 0;
}

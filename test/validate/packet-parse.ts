/**
 * A small, strict packet parser for the generator tests, written apart from the
 * generator so that its packets are judged by what their bytes say, not by what
 * the generator claims: Ethernet with 802.1Q/802.1ad tags, ARP, IPv4 (version 4,
 * IHL >= 5, options present), IPv6 and its extension-header chain, and the
 * TCP/UDP/ICMP/ICMPv6 header of a first fragment. A header counts only when all
 * of its bytes are in the packet.
 */

export type ParsedKind =
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

export interface ParsedLayer {
  kind: ParsedKind;
  offset: number;
}

export interface Parsed {
  layers: ParsedLayer[];
  /** EtherType after the VLAN tags, when the header was complete. */
  etherType?: number;
  srcPort?: number;
  dstPort?: number;
  /** IPv4 source address (unsigned). */
  ipv4Src?: number;
}

const be16 = (p: Uint8Array, at: number): number => ((p[at] as number) << 8) | (p[at + 1] as number);
const be32 = (p: Uint8Array, at: number): number => ((be16(p, at) << 16) | be16(p, at + 2)) >>> 0;

const EXT: Record<number, ParsedKind> = { 0: 'ipv6-hop-by-hop', 43: 'ipv6-routing', 44: 'ipv6-fragment', 60: 'ipv6-dest-opts' };

export function parsePacket(p: Uint8Array): Parsed {
  const out: Parsed = { layers: [] };
  const has = (at: number, n: number): boolean => at + n <= p.length;
  if (!has(0, 14)) return out;
  out.layers.push({ kind: 'ethernet', offset: 0 });
  let at = 12;
  let et = be16(p, at);
  for (let tags = 0; (et === 0x8100 || et === 0x88a8) && tags < 2; tags++) {
    if (!has(at, 6)) return out;
    out.layers.push({ kind: 'vlan', offset: at });
    at += 4;
    et = be16(p, at);
  }
  at += 2;
  out.etherType = et;

  const l4 = (proto: number, off: number, v6: boolean): void => {
    if (proto === 6 && has(off, 20)) out.layers.push({ kind: 'tcp', offset: off });
    else if (proto === 17 && has(off, 8)) out.layers.push({ kind: 'udp', offset: off });
    else if (proto === 1 && !v6 && has(off, 8)) out.layers.push({ kind: 'icmp', offset: off });
    else if (proto === 58 && v6 && has(off, 8)) out.layers.push({ kind: 'icmpv6', offset: off });
    else return;
    if (proto === 6 || proto === 17) {
      out.srcPort = be16(p, off);
      out.dstPort = be16(p, off + 2);
    }
  };

  if (et === 0x0806) {
    if (has(at, 28)) out.layers.push({ kind: 'arp', offset: at });
  } else if (et === 0x0800) {
    if (!has(at, 20) || (p[at] as number) >> 4 !== 4) return out;
    const ihl = (p[at] as number) & 0xf;
    if (ihl < 5 || !has(at, ihl * 4)) return out;
    out.layers.push({ kind: 'ipv4', offset: at });
    out.ipv4Src = be32(p, at + 12);
    if ((be16(p, at + 6) & 0x1fff) !== 0) return out;
    l4(p[at + 9] as number, at + ihl * 4, false);
  } else if (et === 0x86dd) {
    if (!has(at, 40) || (p[at] as number) >> 4 !== 6) return out;
    out.layers.push({ kind: 'ipv6', offset: at });
    let nh = p[at + 6] as number;
    let off = at + 40;
    for (;;) {
      const kind = EXT[nh];
      if (kind === undefined) break;
      if (!has(off, 8)) return out;
      out.layers.push({ kind, offset: off });
      const len = kind === 'ipv6-fragment' ? 8 : ((p[off + 1] as number) + 1) * 8;
      if (kind === 'ipv6-fragment' && be16(p, off + 2) >> 3 !== 0) return out;
      nh = p[off] as number;
      off += len;
    }
    l4(nh, off, true);
  }
  return out;
}

/** The internet checksum over the parts (RFC 1071): 0 over a region that carries a correct one. */
export function checksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd = -1;
  for (const part of parts) {
    for (const b of part) {
      if (odd < 0) odd = b;
      else {
        sum += (odd << 8) | b;
        odd = -1;
      }
    }
  }
  if (odd >= 0) sum += odd << 8;
  while (sum >>> 16) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

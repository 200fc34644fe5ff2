/**
 * What a NIC's RSS hashes of a received frame: up to two VLAN tags (802.1Q, 802.1ad)
 * skipped, then for IPv4 and IPv6 the source and destination address, and for TCP and
 * UDP the two ports too (the 4-tuple; `ethtool -N … rx-flow-hash tcp4/udp4 sdfn`). An
 * IPv4 fragment hashes its addresses only, as the first fragment's ports are not in the
 * others. IPv6 extension headers are not walked: a packet whose next header is not TCP
 * or UDP hashes its addresses. Anything else — another ethertype, a frame too short for
 * its headers — has no hash (`undefined`), and the card puts it on queue 0.
 */
import { rssInput } from './toeplitz.js';

const ETH_HLEN = 14;
const VLAN_TPIDS: ReadonlySet<number> = new Set([0x8100, 0x88a8]);
const MAX_VLAN_TAGS = 2;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/** The hash input of a frame and which fields it holds. */
export interface RssFlow {
  readonly kind: 'ipv4' | 'ipv4-l4' | 'ipv6' | 'ipv6-l4';
  readonly input: Uint8Array;
}

const u16 = (p: Uint8Array, at: number): number => (p[at]! << 8) | p[at + 1]!;

/** The L4 ports at `at`, when the protocol has them and the frame holds them. */
function portsAt(p: Uint8Array, proto: number, at: number): { src: number; dst: number } | undefined {
  if ((proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) || at + 4 > p.length) return undefined;
  return { src: u16(p, at), dst: u16(p, at + 2) };
}

export function rssFlow(p: Uint8Array): RssFlow | undefined {
  if (p.length < ETH_HLEN) return undefined;
  let at = 12;
  let type = u16(p, at);
  for (let tags = 0; VLAN_TPIDS.has(type) && tags < MAX_VLAN_TAGS; tags++) {
    at += 4;
    if (at + 2 > p.length) return undefined;
    type = u16(p, at);
  }
  const l3 = at + 2;
  if (type === ETH_P_IP) {
    if (l3 + 20 > p.length || p[l3]! >> 4 !== 4) return undefined;
    const ihl = 4 * (p[l3]! & 0x0f);
    if (ihl < 20) return undefined;
    const src = p.subarray(l3 + 12, l3 + 16);
    const dst = p.subarray(l3 + 16, l3 + 20);
    const fragment = (u16(p, l3 + 6) & 0x3fff) !== 0; // MF or an offset
    const ports = fragment ? undefined : portsAt(p, p[l3 + 9]!, l3 + ihl);
    return { kind: ports ? 'ipv4-l4' : 'ipv4', input: rssInput(src, dst, ports) };
  }
  if (type === ETH_P_IPV6) {
    if (l3 + 40 > p.length || p[l3]! >> 4 !== 6) return undefined;
    const ports = portsAt(p, p[l3 + 6]!, l3 + 40);
    return { kind: ports ? 'ipv6-l4' : 'ipv6', input: rssInput(p.subarray(l3 + 8, l3 + 24), p.subarray(l3 + 24, l3 + 40), ports) };
  }
  return undefined;
}

/**
 * What a NIC's RSS hashes of a received frame: up to two VLAN tags (802.1Q, 802.1ad)
 * skipped, then for IPv4 and IPv6 the source and destination address, and for TCP and
 * UDP the two ports too (the 4-tuple; `ethtool -N … rx-flow-hash tcp4/udp4 sdfn`). An
 * IPv4 fragment hashes its addresses only, as the first fragment's ports are not in the
 * others. IPv6 extension headers are not walked: a packet whose next header is not TCP
 * or UDP hashes its addresses. Anything else — another ethertype, a frame too short for
 * its headers — has no hash (`undefined`), and the card puts it on queue 0.
 *
 * One header walk (`rssFields`) finds where the hashed fields lie and answers with
 * offsets packed in a number. `rssFlow` builds the hash input from them — the readable
 * form, for tests and callers that want the fields. `rssHashOf` is the per-packet path
 * (RssSpreader, once per simulated packet): it hashes the fields where they lie in the
 * frame (`Toeplitz.hashAt`) and allocates nothing; `hash(rssFlow(p).input)` is its value.
 */
import { ETH_HLEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, IPPROTO_TCP, IPPROTO_UDP, MAX_VLAN_TAGS, VLAN_HLEN } from './ethernet.js';
import { type Toeplitz, rssInput } from './toeplitz.js';

export { ETH_HLEN } from './ethernet.js';

/** The hash input of a frame and which fields it holds. */
export interface RssFlow {
  readonly kind: 'ipv4' | 'ipv4-l4' | 'ipv6' | 'ipv6-l4';
  readonly input: Uint8Array;
}

const u16 = (p: Uint8Array, at: number): number => (p[at]! << 8) | p[at + 1]!;

/*
 * `rssFields` packs where the fields lie: bits 0–7 the offset of the ports (0 when they
 * are not hashed — no L4 header starts at 0), bits 8–15 the offset of the source address
 * (the destination follows it), bit 16 set for IPv6; NO_FLOW when there is no hash. The
 * offsets fit in a byte: the IP header starts by byte 22 (two tags), the ports at most
 * 60 bytes (IHL 15) after it.
 */
const NO_FLOW = -1;
const FIELD_IPV6 = 1 << 16;
const addrsAt = (fields: number): number => (fields >> 8) & 0xff;
const addrLen = (fields: number): number => (fields & FIELD_IPV6 ? 16 : 4);
const portsAt = (fields: number): number => fields & 0xff;

/** `at` when the protocol has ports and the frame holds them there, else 0. */
const l4PortsAt = (p: Uint8Array, proto: number, at: number): number =>
  (proto === IPPROTO_TCP || proto === IPPROTO_UDP) && at + 4 <= p.length ? at : 0;

/**
 * Bytes of a frame's Ethernet header with its VLAN tags (802.1Q, 802.1ad; up to two, 4
 * bytes each): where the packet starts. Tags are counted as far as the frame holds their
 * TPIDs, so the answer passes the frame's end when it is cut inside the tags (and is 14
 * for a frame shorter than that).
 */
export function ethHeaderLength(p: Uint8Array): number {
  let h = ETH_HLEN;
  for (let tags = 0; tags < MAX_VLAN_TAGS && h <= p.length; tags++) {
    const type = u16(p, h - 2);
    if (type !== ETH_P_8021Q && type !== ETH_P_8021AD) break;
    h += VLAN_HLEN;
  }
  return h;
}

/** Where the frame's hashed fields lie (packed as above), or NO_FLOW. */
function rssFields(p: Uint8Array): number {
  if (p.length < ETH_HLEN) return NO_FLOW;
  const l3 = ethHeaderLength(p);
  if (l3 > p.length) return NO_FLOW;
  const type = u16(p, l3 - 2);
  if (type === ETH_P_IP) {
    if (l3 + 20 > p.length || p[l3]! >> 4 !== 4) return NO_FLOW;
    const ihl = 4 * (p[l3]! & 0x0f);
    if (ihl < 20) return NO_FLOW;
    const fragment = (u16(p, l3 + 6) & 0x3fff) !== 0; // MF or an offset
    return ((l3 + 12) << 8) | (fragment ? 0 : l4PortsAt(p, p[l3 + 9]!, l3 + ihl));
  }
  if (type === ETH_P_IPV6) {
    if (l3 + 40 > p.length || p[l3]! >> 4 !== 6) return NO_FLOW;
    return FIELD_IPV6 | ((l3 + 8) << 8) | l4PortsAt(p, p[l3 + 6]!, l3 + 40);
  }
  return NO_FLOW;
}

export function rssFlow(p: Uint8Array): RssFlow | undefined {
  const fields = rssFields(p);
  if (fields === NO_FLOW) return undefined;
  const src = addrsAt(fields);
  const len = addrLen(fields);
  const at = portsAt(fields);
  const ports = at === 0 ? undefined : { src: u16(p, at), dst: u16(p, at + 2) };
  const kind = len === 4 ? (ports ? 'ipv4-l4' : 'ipv4') : ports ? 'ipv6-l4' : 'ipv6';
  return { kind, input: rssInput(p.subarray(src, src + len), p.subarray(src + len, src + 2 * len), ports) };
}

/** The frame's RSS hash by `hasher`, or −1 when it has none; allocates nothing. */
export function rssHashOf(p: Uint8Array, hasher: Toeplitz): number {
  const fields = rssFields(p);
  if (fields === NO_FLOW) return -1;
  const at = portsAt(fields);
  return hasher.hashAt(p, addrsAt(fields), addrLen(fields), at === 0 ? -1 : at);
}

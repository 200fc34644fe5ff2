/**
 * Writes the fixture captures in fixtures/pcap/ from a seeded generator, so
 * running it again gives byte-identical files:
 *
 *   mixed.pcap        a few hundred packets of mixed traffic (µs timestamps)
 *   mixed-ns.pcap     a smaller mix with nanosecond timestamps
 *   ipv6-ext.pcap     IPv6 extension-header chains, good and bad
 *   short-frames.pcap runt frames and headers cut short
 *   firewall.pcap     hits and near misses of the firewall_5tuple rules below
 *   tcp-options.pcap  IPv4 SYNs with TCP option lists, good and bad (MSS
 *                     large and small, NOP runs, EOL, bad lengths, an option
 *                     running past the frame), for rw_tcp_options
 *   jumbo.pcap        frames around and beyond the 3520 bytes an XDP frame's
 *                     linear part holds (multi-buffer in a test run); the
 *                     limit itself (73,152 bytes) is tested with frames built
 *                     at test time, to keep the captures small
 *   manifest.json     per capture: packet count, count per kind, the kind of
 *                     every packet in order; and the rules the traffic targets
 *
 * Build and run: npx tsc -p . && node dist/scripts/make-pcaps.js [--out-dir DIR]
 *
 * The traffic is aimed at the XDP fixtures in fixtures/src: see FIXTURE_RULES
 * and docs/fixtures.md for which packets each program should drop or change.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPcapWriter, type PcapWriter } from '../xdp/pcap/pcap-writer.js';
import * as P from './lib/packets.js';

// ---------------------------------------------------------------- configuration the fixtures use

interface FirewallRule {
  readonly saddr: string;
  readonly daddr: string;
  readonly sport: number;
  readonly dport: number;
  readonly proto: number;
}

/** What the fixture programs match on; written into manifest.json. */
const FIXTURE_RULES = {
  /** Entries to put in firewall_5tuple's fw_rules map (ports 0 for ICMP). */
  firewall: [
    { saddr: '10.1.0.66', daddr: '10.2.0.1', sport: 31337, dport: 22, proto: P.IPPROTO_TCP },
    { saddr: '10.1.0.77', daddr: '10.2.0.53', sport: 5353, dport: 53, proto: P.IPPROTO_UDP },
    { saddr: '10.1.0.88', daddr: '10.2.0.1', sport: 0, dport: 0, proto: P.IPPROTO_ICMP },
  ] as readonly FirewallRule[],
  /** truncate_tail.c TRUNCATE_LEN. */
  truncateLen: 512,
  /** ipip_encap.c vip_addr. */
  ipipVip: '10.100.0.10',
  /** rodata_config.c blocked_port. */
  blockedPort: 23,
  /** alu32_jmp32.c PORT_LO..PORT_HI. */
  portRange: [6000, 6999] as const,
  /** parse_l3.c drops these source prefixes. */
  documentationPrefixes: ['192.0.2.0/24', '2001:db8::/32'],
} as const;

const SEED = 0x5eed_f1c5;
const EPOCH_SECONDS = 1_700_000_000; // 2023-11-14T22:13:20Z

const ROUTER_MAC = '02:00:00:00:00:01';
const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

// ---------------------------------------------------------------- deterministic randomness

/** Marsaglia's xorshift32: small, fast, and the same on every machine. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** Next 32-bit unsigned value. */
  u32(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }
}

// ---------------------------------------------------------------- hosts and framing helpers

const hostMac = (n: number): string => `02:00:00:00:01:${(n & 0xff).toString(16).padStart(2, '0')}`;
const client4 = (rng: Rng): string => `10.1.${rng.int(0, 3)}.${rng.int(2, 250)}`;
const server4 = (rng: Rng): string => `10.2.0.${rng.int(1, 60)}`;
const client6 = (rng: Rng): string => `fd00:1::${rng.int(2, 0xfff).toString(16)}`;
const server6 = (rng: Rng): string => `fd00:2::${rng.int(1, 0x3f).toString(16)}`;
const ephemeral = (rng: Rng): number => rng.int(32768, 60999);
const wellKnown = (rng: Rng): number => rng.pick([22, 53, 80, 123, 443, 8080]);

function frame(rng: Rng, etherType: number, payload: Uint8Array, vlans?: readonly P.VlanTag[]): Uint8Array {
  return P.ethernet({ dst: ROUTER_MAC, src: hostMac(rng.int(2, 200)), etherType, ...(vlans ? { vlans } : {}) }, payload);
}

function tcpFlags(rng: Rng): number {
  return rng.pick([P.TCP_SYN, P.TCP_SYN | P.TCP_ACK, P.TCP_ACK, P.TCP_PSH | P.TCP_ACK, P.TCP_FIN | P.TCP_ACK, P.TCP_RST]);
}

interface Ipv4Flow {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

function ipv4Tcp(rng: Rng, f: Ipv4Flow, payloadLen: number, extra: Partial<P.Ipv4Options> = {}): Uint8Array {
  const flags = payloadLen > 0 ? P.TCP_PSH | P.TCP_ACK : tcpFlags(rng);
  const seg = P.tcp(
    { srcPort: f.sport, dstPort: f.dport, seq: rng.u32(), ack: flags & P.TCP_ACK ? rng.u32() : 0, flags },
    rng.bytes(payloadLen),
    { src: f.src, dst: f.dst },
  );
  return P.ipv4({ src: f.src, dst: f.dst, protocol: P.IPPROTO_TCP, id: rng.int(0, 0xffff), dontFragment: true, ...extra }, seg);
}

function ipv4Udp(rng: Rng, f: Ipv4Flow, payloadLen: number, extra: Partial<P.Ipv4Options> = {}): Uint8Array {
  const dgram = P.udp({ srcPort: f.sport, dstPort: f.dport }, rng.bytes(payloadLen), { src: f.src, dst: f.dst });
  return P.ipv4({ src: f.src, dst: f.dst, protocol: P.IPPROTO_UDP, id: rng.int(0, 0xffff), ...extra }, dgram);
}

function ipv4Icmp(rng: Rng, src: string, dst: string, extra: Partial<P.Ipv4Options> = {}): Uint8Array {
  const type = rng.chance(0.5) ? P.ICMP_ECHO_REQUEST : P.ICMP_ECHO_REPLY;
  const msg = P.icmpv4({ type, rest: P.echoRest(rng.int(1, 0xffff), rng.int(0, 100)) }, rng.bytes(rng.int(8, 56)));
  return P.ipv4({ src, dst, protocol: P.IPPROTO_ICMP, id: rng.int(0, 0xffff), ...extra }, msg);
}

function ipv6L4(
  rng: Rng,
  opts: Omit<P.Ipv6Options, 'nextHeader'>,
  proto: number,
  payloadLen: number,
): Uint8Array {
  const pseudo = P.ipv6PseudoHeader(opts);
  const data = rng.bytes(payloadLen);
  let l4: Uint8Array;
  if (proto === P.IPPROTO_TCP) {
    l4 = P.tcp({ srcPort: ephemeral(rng), dstPort: wellKnown(rng), seq: rng.u32(), flags: tcpFlags(rng) }, data, pseudo);
  } else if (proto === P.IPPROTO_UDP) {
    l4 = P.udp({ srcPort: ephemeral(rng), dstPort: wellKnown(rng) }, data, pseudo);
  } else if (proto === P.IPPROTO_ICMPV6) {
    l4 = P.icmpv6({ type: P.ICMPV6_ECHO_REQUEST, rest: P.echoRest(rng.int(1, 0xffff), rng.int(0, 100)) }, data, pseudo);
  } else {
    l4 = data; // no next header / opaque payload
  }
  return P.ipv6({ ...opts, nextHeader: proto }, l4);
}

// ---------------------------------------------------------------- packet kinds

type Builder = (rng: Rng) => Uint8Array;

const routerAlert = new Uint8Array([0x94, 0x04, 0x00, 0x00]);

/** Ordinary traffic, drawn at random with these weights. */
const COMMON: ReadonlyArray<readonly [kind: string, weight: number, build: Builder]> = [
  ['ipv4-tcp', 30, (r) => frame(r, P.ETH_P_IP, ipv4Tcp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: wellKnown(r) }, r.chance(0.5) ? r.int(1, 200) : 0))],
  ['ipv4-udp', 20, (r) => frame(r, P.ETH_P_IP, ipv4Udp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: wellKnown(r) }, r.int(12, 120)))],
  ['ipv4-icmp', 6, (r) => frame(r, P.ETH_P_IP, ipv4Icmp(r, client4(r), server4(r)))],
  ['ipv6-tcp', 12, (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r) }, P.IPPROTO_TCP, r.chance(0.5) ? r.int(1, 200) : 0))],
  ['ipv6-udp', 10, (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r) }, P.IPPROTO_UDP, r.int(12, 120)))],
  ['icmpv6-echo', 5, (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r) }, P.IPPROTO_ICMPV6, r.int(8, 56)))],
  ['icmpv6-neighbor-solicit', 3, (r) => {
    const target = server6(r);
    const src = client6(r);
    const last = P.ipv6Address(target).subarray(13);
    const dst = `ff02::1:ff${(last[0] ?? 0).toString(16).padStart(2, '0')}:${(((last[1] ?? 0) << 8) | (last[2] ?? 0)).toString(16)}`;
    const body = P.concatBytes(P.ipv6Address(target), new Uint8Array([1, 1]), P.macAddress(hostMac(r.int(2, 200))));
    const msg = P.icmpv6({ type: P.ICMPV6_NEIGHBOR_SOLICIT }, body, { src, dst });
    return P.ethernet({ dst: '33:33:ff:00:00:01', src: hostMac(r.int(2, 200)), etherType: P.ETH_P_IPV6 }, P.ipv6({ src, dst, nextHeader: P.IPPROTO_ICMPV6, hopLimit: 255 }, msg));
  }],
  ['arp', 5, (r) => {
    const request = r.chance(0.6);
    const a = client4(r);
    const b = server4(r);
    const body = P.arp({ op: request ? 1 : 2, senderMac: hostMac(r.int(2, 200)), senderIp: a, targetMac: request ? '00:00:00:00:00:00' : hostMac(r.int(2, 200)), targetIp: b });
    const padded = P.concatBytes(body, new Uint8Array(18)); // to the 60-byte minimum
    return P.ethernet({ dst: request ? BROADCAST_MAC : ROUTER_MAC, src: hostMac(r.int(2, 200)), etherType: P.ETH_P_ARP }, padded);
  }],
  ['vlan', 6, (r) => {
    const tag = [{ vid: r.int(2, 4094), pcp: r.int(0, 7) }];
    return r.chance(0.5)
      ? frame(r, P.ETH_P_IP, ipv4Udp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: wellKnown(r) }, r.int(12, 80)), tag)
      : frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r) }, P.IPPROTO_TCP, 0), tag);
  }],
  ['qinq', 4, (r) => {
    const tags = [{ tpid: P.ETH_P_8021AD, vid: r.int(100, 200) }, { vid: r.int(2, 4094) }];
    return r.chance(0.5)
      ? frame(r, P.ETH_P_IP, ipv4Tcp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: wellKnown(r) }, 0), tags)
      : frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r) }, P.IPPROTO_UDP, r.int(12, 80)), tags);
  }],
];

/** IPv6 extension-header chains, each a kind of its own. */
const IPV6_EXT: ReadonlyArray<readonly [kind: string, build: Builder]> = [
  ['ipv6-ext-hbh-udp', (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r), extensions: [{ kind: 'hop-by-hop', options: [{ type: 5, data: new Uint8Array([0, 0]) }] }] }, P.IPPROTO_UDP, r.int(12, 60)))],
  ['ipv6-ext-dst-tcp', (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r), extensions: [{ kind: 'destination', options: [{ type: 0x1e, data: r.bytes(10) }] }] }, P.IPPROTO_TCP, 0))],
  ['ipv6-ext-hbh-rh2-dst-icmpv6', (r) => {
    const home = server6(r);
    return frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: 'fd00:3::1', extensions: [{ kind: 'hop-by-hop' }, { kind: 'routing', routingType: 2, segmentsLeft: 1, addresses: [home] }, { kind: 'destination' }] }, P.IPPROTO_ICMPV6, r.int(8, 40)));
  }],
  ['ipv6-ext-frag-first-udp', (r) => {
    const src = client6(r);
    const dst = server6(r);
    // First fragment of a larger datagram: UDP header present, length/checksum describe the whole datagram.
    const whole = P.udp({ srcPort: ephemeral(r), dstPort: 53 }, r.bytes(300), { src, dst });
    return frame(r, P.ETH_P_IPV6, P.ipv6({ src, dst, nextHeader: P.IPPROTO_UDP, extensions: [{ kind: 'fragment', offset: 0, moreFragments: true, identification: r.u32() }] }, whole.subarray(0, 104)));
  }],
  ['ipv6-ext-frag-later', (r) => frame(r, P.ETH_P_IPV6, P.ipv6({ src: client6(r), dst: server6(r), nextHeader: P.IPPROTO_UDP, extensions: [{ kind: 'fragment', offset: 104, moreFragments: false, identification: r.u32() }] }, r.bytes(204)))],
  ['ipv6-ext-ah-tcp', (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r), extensions: [{ kind: 'ah', spi: r.u32(), sequence: r.int(1, 1000) }] }, P.IPPROTO_TCP, 0))],
  ['ipv6-ext-hbh-dst-frag-ah-udp', (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r), extensions: [{ kind: 'hop-by-hop' }, { kind: 'destination' }, { kind: 'fragment', identification: r.u32() }, { kind: 'ah', spi: r.u32(), sequence: 1 }] }, P.IPPROTO_UDP, r.int(12, 40)))],
  ['ipv6-ext-esp', (r) => frame(r, P.ETH_P_IPV6, P.ipv6({ src: client6(r), dst: server6(r), nextHeader: P.IPPROTO_ESP, extensions: [{ kind: 'destination' }] }, r.bytes(r.int(40, 80))))],
  ['ipv6-ext-no-next-header', (r) => frame(r, P.ETH_P_IPV6, P.ipv6({ src: client6(r), dst: server6(r), nextHeader: P.IPPROTO_NONE, extensions: [{ kind: 'hop-by-hop' }] }))],
  ['ipv6-ext-rh0', (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: 'fd00:3::2', extensions: [{ kind: 'routing', routingType: 0, segmentsLeft: 2, addresses: ['fd00:3::3', server6(r)] }] }, P.IPPROTO_UDP, 20))],
  ['ipv6-ext-chain-too-long', (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r), extensions: Array.from({ length: 9 }, () => ({ kind: 'destination' as const })) }, P.IPPROTO_UDP, 16))],
  ['ipv6-ext-chain-8', (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r), extensions: [{ kind: 'hop-by-hop' }, ...Array.from({ length: 7 }, () => ({ kind: 'destination' as const }))] }, P.IPPROTO_UDP, 16))],
  ['ipv6-ext-truncated', (r) => {
    const whole = ipv6L4(r, { src: client6(r), dst: server6(r), extensions: [{ kind: 'hop-by-hop' }, { kind: 'destination', options: [{ type: 0x1e, data: r.bytes(20) }] }] }, P.IPPROTO_UDP, 8);
    // Cut inside the destination-options header (40 + 8 + 12 bytes kept).
    return frame(r, P.ETH_P_IPV6, whole.subarray(0, P.IPV6_HEADER_BYTES + 8 + 12));
  }],
];

/** Frames shorter than an Ethernet header, and headers cut short or malformed. */
const SHORT: ReadonlyArray<readonly [kind: string, build: Builder]> = [
  ['runt', (r) => frame(r, P.ETH_P_IP, new Uint8Array(0)).subarray(0, r.int(1, 13))],
  ['ethernet-only', (r) => frame(r, P.ETH_P_IP, new Uint8Array(0))],
  ['truncated-vlan', (r) => frame(r, P.ETH_P_IP, new Uint8Array(0), [{ vid: 10 }]).subarray(0, 16)],
  ['truncated-ipv4', (r) => frame(r, P.ETH_P_IP, ipv4Udp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: 53 }, 20).subarray(0, r.int(1, 19)))],
  ['truncated-ipv6', (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r) }, P.IPPROTO_UDP, 20).subarray(0, r.int(1, 39)))],
  ['ipv4-bad-ihl', (r) => frame(r, P.ETH_P_IP, ipv4Udp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: 53 }, 20, { ihl: 4 }))],
  ['ipv4-options-past-end', (r) => {
    // IHL says 60 bytes of header; the frame ends 8 bytes after the fixed header.
    const pkt = ipv4Udp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: 53 }, 0, { ihl: 15 });
    return frame(r, P.ETH_P_IP, pkt.subarray(0, 28));
  }],
  ['truncated-tcp', (r) => {
    const f = { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: 80 };
    return frame(r, P.ETH_P_IP, ipv4Tcp(r, f, 0).subarray(0, P.IPV4_HEADER_BYTES + r.int(1, 19)));
  }],
  ['truncated-udp', (r) => {
    const f = { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: 53 };
    return frame(r, P.ETH_P_IP, ipv4Udp(r, f, 8).subarray(0, P.IPV4_HEADER_BYTES + r.int(1, 7)));
  }],
];

function firewallHit(rule: FirewallRule): Builder {
  return (r) => {
    const f = { src: rule.saddr, dst: rule.daddr, sport: rule.sport, dport: rule.dport };
    if (rule.proto === P.IPPROTO_TCP) return frame(r, P.ETH_P_IP, ipv4Tcp(r, f, r.int(0, 40)));
    if (rule.proto === P.IPPROTO_UDP) return frame(r, P.ETH_P_IP, ipv4Udp(r, f, r.int(12, 60)));
    return frame(r, P.ETH_P_IP, ipv4Icmp(r, rule.saddr, rule.daddr));
  };
}

/**
 * A packet that differs from a rule in one respect, so it must not match: one
 * field (source port, or the destination address for ICMP), the direction, or
 * the protocol.
 */
function firewallNearMiss(rule: FirewallRule, which: 'field' | 'reverse' | 'proto'): Builder {
  return (r) => {
    if (which === 'reverse') {
      return firewallHit({ ...rule, saddr: rule.daddr, daddr: rule.saddr, sport: rule.dport, dport: rule.sport })(r);
    }
    if (which === 'proto') {
      const f = { src: rule.saddr, dst: rule.daddr, sport: rule.sport || 1000, dport: rule.dport || 1000 };
      return rule.proto === P.IPPROTO_UDP ? frame(r, P.ETH_P_IP, ipv4Tcp(r, f, 0)) : frame(r, P.ETH_P_IP, ipv4Udp(r, f, 16));
    }
    // ICMP rules have no ports to change: change the destination address instead.
    if (rule.proto === P.IPPROTO_ICMP) return firewallHit({ ...rule, daddr: '10.2.0.250' })(r);
    return firewallHit({ ...rule, sport: rule.sport + 1 })(r);
  };
}

/** First and later IPv4 fragments of one UDP datagram. */
function ipv4FragmentTrain(r: Rng, f: Ipv4Flow, size: number, fragPayload: number): Uint8Array[] {
  const dgram = P.udp({ srcPort: f.sport, dstPort: f.dport }, r.bytes(size), { src: f.src, dst: f.dst });
  return P.ipv4Fragments({ src: f.src, dst: f.dst, protocol: P.IPPROTO_UDP, id: r.int(1, 0xffff) }, dgram, fragPayload).map((ip) => frame(r, P.ETH_P_IP, ip));
}

/** Special packets the fixtures react to, with how many of each go into mixed.pcap. */
const SPECIAL: ReadonlyArray<readonly [kind: string, count: number, build: Builder]> = [
  ['vlan-3-tags', 3, (r) => frame(r, P.ETH_P_IP, ipv4Udp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: 53 }, 20), [{ tpid: P.ETH_P_8021AD, vid: 100 }, { tpid: P.ETH_P_8021Q, vid: 200 }, { vid: 300 }])],
  ['ipv4-options', 2, (r) => frame(r, P.ETH_P_IP, ipv4Udp(r, { src: client4(r), dst: '224.0.0.22', sport: ephemeral(r), dport: 5000 }, 16, { options: routerAlert, ttl: 1 }))],
  ['ipv4-bad-checksum', 2, (r) => frame(r, P.ETH_P_IP, ipv4Udp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: 53 }, 24, { checksum: 0xbad0 }))],
  ['ipv4-ttl-1', 3, (r) => frame(r, P.ETH_P_IP, ipv4Udp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: 33434 + r.int(0, 30) }, 24, { ttl: 1 }))],
  ['ipv6-hop-limit-1', 2, (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: client6(r), dst: server6(r), hopLimit: 1 }, P.IPPROTO_UDP, 24))],
  ['doc-prefix-ipv4', 3, (r) => frame(r, P.ETH_P_IP, ipv4Tcp(r, { src: `192.0.2.${r.int(1, 254)}`, dst: server4(r), sport: ephemeral(r), dport: 80 }, 0))],
  ['doc-prefix-ipv6', 2, (r) => frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: `2001:db8::${r.int(1, 0xffff).toString(16)}`, dst: server6(r) }, P.IPPROTO_UDP, 20))],
  ['ipip', 3, (r) => {
    const inner = ipv4Tcp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: 443 }, r.int(0, 60));
    return frame(r, P.ETH_P_IP, P.ipip({ src: '10.200.0.9', dst: '10.200.0.1', id: r.int(0, 0xffff) }, inner));
  }],
  ['ipip-vip', 4, (r) => frame(r, P.ETH_P_IP, r.chance(0.5)
    ? ipv4Tcp(r, { src: client4(r), dst: FIXTURE_RULES.ipipVip, sport: ephemeral(r), dport: 80 }, r.int(0, 100))
    : ipv4Udp(r, { src: client4(r), dst: FIXTURE_RULES.ipipVip, sport: ephemeral(r), dport: 53 }, r.int(12, 60)))],
  ['telnet', 3, (r) => frame(r, P.ETH_P_IP, ipv4Tcp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: FIXTURE_RULES.blockedPort }, 0))],
  ['port-range', 3, (r) => frame(r, P.ETH_P_IP, ipv4Udp(r, { src: client4(r), dst: server4(r), sport: ephemeral(r), dport: r.int(...FIXTURE_RULES.portRange) }, r.int(12, 60)))],
  ['oversize', 10, (r) => {
    const len = r.int(FIXTURE_RULES.truncateLen + 1, 1400);
    const l4Len = len - P.ETH_HEADER_BYTES - P.IPV4_HEADER_BYTES - P.TCP_HEADER_BYTES;
    return frame(r, P.ETH_P_IP, ipv4Tcp(r, { src: client4(r), dst: server4(r), sport: 443, dport: ephemeral(r) }, l4Len));
  }],
  ['oversize-ipv6', 3, (r) => {
    const len = r.int(FIXTURE_RULES.truncateLen + 1, 1400);
    return frame(r, P.ETH_P_IPV6, ipv6L4(r, { src: server6(r), dst: client6(r) }, P.IPPROTO_UDP, len - P.ETH_HEADER_BYTES - P.IPV6_HEADER_BYTES - P.UDP_HEADER_BYTES));
  }],
  ...FIXTURE_RULES.firewall.map((rule, i) => [`firewall-hit-${i}`, 3, firewallHit(rule)] as const),
  ...FIXTURE_RULES.firewall.map((rule, i) => [`firewall-near-miss-${i}`, 1, firewallNearMiss(rule, i === 2 ? 'reverse' : 'field')] as const),
];

// ---------------------------------------------------------------- captures

interface CaptureSpec {
  readonly file: string;
  readonly seed: number;
  readonly nanosecond: boolean;
  /** Packets in order, each with its kind. */
  readonly packets: ReadonlyArray<readonly [kind: string, bytes: Uint8Array]>;
}

interface CaptureSummary {
  readonly packets: number;
  readonly bytes: number;
  readonly timestampResolution: 'us' | 'ns';
  readonly linkType: number;
  readonly counts: Record<string, number>;
  readonly kinds: readonly string[];
}

function pickWeighted(rng: Rng): readonly [string, Builder] {
  const total = COMMON.reduce((s, [, w]) => s + w, 0);
  let x = rng.int(0, total - 1);
  for (const [kind, weight, build] of COMMON) {
    if (x < weight) return [kind, build];
    x -= weight;
  }
  throw new Error('unreachable');
}

function mixedPackets(rng: Rng, commonCount: number, specialScale: number): Array<readonly [string, Uint8Array]> {
  const out: Array<readonly [string, Uint8Array]> = [];
  for (let i = 0; i < commonCount; i++) {
    const [kind, build] = pickWeighted(rng);
    out.push([kind, build(rng)]);
  }
  for (const [kind, count, build] of SPECIAL) {
    for (let i = 0; i < Math.max(1, Math.round(count * specialScale)); i++) out.push([kind, build(rng)]);
  }
  for (const [kind, build] of IPV6_EXT) out.push([kind, build(rng)]);
  for (const [kind, build] of SHORT) out.push([kind, build(rng)]);
  out.push(['runt', SHORT[0]?.[1](rng) ?? new Uint8Array(1)]);
  rng.shuffle(out);
  // Fragment trains stay in order: first fragment, then the later ones.
  const trains = Math.max(1, Math.round(3 * specialScale));
  for (let t = 0; t < trains; t++) {
    const f = { src: client4(rng), dst: server4(rng), sport: ephemeral(rng), dport: 5001 };
    const frags = ipv4FragmentTrain(rng, f, rng.int(400, 700), 256);
    const at = rng.int(0, out.length);
    out.splice(at, 0, ...frags.map((b, i) => [i === 0 ? 'ipv4-fragment-first' : 'ipv4-fragment-later', b] as const));
  }
  return out;
}

function buildCaptures(): CaptureSpec[] {
  const specs: CaptureSpec[] = [];

  {
    const rng = new Rng(SEED);
    specs.push({ file: 'mixed.pcap', seed: SEED, nanosecond: false, packets: mixedPackets(rng, 260, 1) });
  }
  {
    const seed = SEED + 1;
    const rng = new Rng(seed);
    specs.push({ file: 'mixed-ns.pcap', seed, nanosecond: true, packets: mixedPackets(rng, 60, 0.34) });
  }
  {
    const seed = SEED + 6;
    const rng = new Rng(seed);
    const packets: Array<readonly [string, Uint8Array]> = [];
    for (let round = 0; round < 2; round++) for (const [kind, build] of IPV6_EXT) packets.push([kind, build(rng)]);
    packets.push(['ipv6-udp', COMMON[4]?.[2](rng) ?? new Uint8Array(0)]);
    packets.push(['vlan-ipv6-ext', frame(rng, P.ETH_P_IPV6, ipv6L4(rng, { src: client6(rng), dst: server6(rng), extensions: [{ kind: 'hop-by-hop' }, { kind: 'destination' }] }, P.IPPROTO_TCP, 0), [{ vid: 42 }])]);
    specs.push({ file: 'ipv6-ext.pcap', seed, nanosecond: false, packets });
  }
  {
    const seed = SEED + 14;
    const rng = new Rng(seed);
    const packets: Array<readonly [string, Uint8Array]> = [];
    for (let len = 1; len <= 13; len++) packets.push(['runt', frame(rng, P.ETH_P_IP, new Uint8Array(0)).subarray(0, len)]);
    for (let round = 0; round < 3; round++) for (const [kind, build] of SHORT.slice(1)) packets.push([kind, build(rng)]);
    specs.push({ file: 'short-frames.pcap', seed, nanosecond: false, packets });
  }
  {
    const seed = SEED + 22;
    const rng = new Rng(seed);
    const packets: Array<readonly [string, Uint8Array]> = [];
    FIXTURE_RULES.firewall.forEach((rule, i) => {
      for (let k = 0; k < 3; k++) packets.push([`firewall-hit-${i}`, firewallHit(rule)(rng)]);
      for (const which of ['field', 'reverse', 'proto'] as const) packets.push([`firewall-near-miss-${i}`, firewallNearMiss(rule, which)(rng)]);
    });
    // A rule's flow fragmented: the first fragment carries the ports and hits,
    // the later ones have no L4 header (ports 0 in the key) and miss.
    const udpRule = FIXTURE_RULES.firewall[1];
    if (udpRule) {
      const frags = ipv4FragmentTrain(rng, { src: udpRule.saddr, dst: udpRule.daddr, sport: udpRule.sport, dport: udpRule.dport }, 500, 256);
      frags.forEach((b, i) => packets.push([i === 0 ? 'firewall-hit-1-fragment-first' : 'firewall-miss-1-fragment-later', b]));
    }
    for (let k = 0; k < 4; k++) packets.push(['ipv4-tcp', COMMON[0]?.[2](rng) ?? new Uint8Array(0)]);
    specs.push({ file: 'firewall.pcap', seed, nanosecond: false, packets });
  }
  {
    const seed = SEED + 26;
    const rng = new Rng(seed);
    const packets: Array<readonly [string, Uint8Array]> = [];
    const mss = (v: number) => [2, 4, v >> 8, v & 0xff];
    const LISTS: ReadonlyArray<readonly [string, readonly number[]]> = [
      ['tcp-syn-mss-1460', [...mss(1460), 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7]],
      ['tcp-syn-mss-small', [...mss(500), 1, 1, 4, 2]],
      ['tcp-syn-mss-536', [1, ...mss(536), 1, 1, 1]],
      ['tcp-syn-mss-late', [1, 1, 1, 1, 1, 1, 1, 1, 1, ...mss(400)]],
      ['tcp-syn-nops', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
      ['tcp-syn-eol-first', [0, ...mss(300)]],
      ['tcp-syn-bad-length', [2, 1, 1, 200]],
      ['tcp-syn-mss-length-3', [2, 3, 1, 1]],
      ['tcp-syn-sack-then-mss', [4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, ...mss(256)]],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [kind, list] of LISTS) {
        const f = { src: client4(rng), dst: server4(rng), sport: ephemeral(rng), dport: wellKnown(rng) };
        const seg = P.tcp({ srcPort: f.sport, dstPort: f.dport, seq: rng.u32(), flags: P.TCP_SYN, options: Uint8Array.from(list) }, new Uint8Array(0), { src: f.src, dst: f.dst });
        packets.push([kind, frame(rng, P.ETH_P_IP, P.ipv4({ src: f.src, dst: f.dst, protocol: P.IPPROTO_TCP, id: rng.int(0, 0xffff), dontFragment: true }, seg))]);
      }
    }
    // An MSS option cut off by the end of the frame (a capture's snap length did it).
    const cut = packets[1]![1];
    packets.push(['tcp-syn-options-cut', cut.subarray(0, 14 + 20 + 20 + 3)]);
    specs.push({ file: 'tcp-options.pcap', seed, nanosecond: false, packets });
  }
  {
    const seed = SEED + 30;
    const rng = new Rng(seed);
    const packets: Array<readonly [string, Uint8Array]> = [];
    // Frame lengths at the edges of the linear part (3520), of a fragment page (4096), the common
    // jumbo MTUs, and a frame of five fragments.
    const lengths = [1514, 3519, 3520, 3521, 3534, 4000, 7616, 7617, 9014, 9018, 16384, 20000];
    lengths.forEach((len, i) => {
      const flow = { src: client4(rng), dst: server4(rng), sport: ephemeral(rng), dport: wellKnown(rng) };
      const tos = i % 3 === 0 ? 1 : 0;
      const ip = i % 2 === 0 ? ipv4Udp(rng, flow, len - 14 - 20 - 8, { tos }) : ipv4Tcp(rng, flow, len - 14 - 20 - 20, { tos });
      packets.push([i % 2 === 0 ? 'ipv4-udp-jumbo' : 'ipv4-tcp-jumbo', frame(rng, P.ETH_P_IP, ip)]);
    });
    packets.push(['ipv6-udp-jumbo', frame(rng, P.ETH_P_IPV6, ipv6L4(rng, { src: client6(rng), dst: server6(rng) }, P.IPPROTO_UDP, 8000))]);
    specs.push({ file: 'jumbo.pcap', seed, nanosecond: false, packets });
  }
  return specs;
}

function writeCapture(spec: CaptureSpec, rng: Rng): { writer: PcapWriter; summary: CaptureSummary } {
  const writer = createPcapWriter({ nanosecond: spec.nanosecond });
  const counts: Record<string, number> = {};
  let sec = EPOCH_SECONDS;
  let frac = 0;
  const unit = spec.nanosecond ? 1_000_000_000 : 1_000_000;
  for (const [kind, bytes] of spec.packets) {
    // Gaps of 1 µs .. 2 ms; nanosecond captures get sub-microsecond digits too.
    frac += spec.nanosecond ? rng.int(1_000, 2_000_000) + rng.int(0, 999) : rng.int(1, 2_000);
    while (frac >= unit) {
      frac -= unit;
      sec++;
    }
    writer.add(bytes, sec, frac);
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  const sorted: Record<string, number> = {};
  for (const k of Object.keys(counts).sort()) sorted[k] = counts[k] ?? 0;
  return {
    writer,
    summary: {
      packets: writer.packetCount,
      bytes: writer.bytes().length,
      timestampResolution: spec.nanosecond ? 'ns' : 'us',
      linkType: writer.linkType,
      counts: sorted,
      kinds: spec.packets.map(([k]) => k),
    },
  };
}

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'fixtures'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`make-pcaps: no repository root above ${start}`);
    dir = up;
  }
}

function main(argv: readonly string[]): void {
  let outDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out-dir') outDir = argv[++i];
    else throw new Error(`make-pcaps: unknown argument ${argv[i]}`);
  }
  const root = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  const dir = resolve(outDir ?? join(root, 'fixtures', 'pcap'));
  mkdirSync(dir, { recursive: true });

  const captures: Record<string, CaptureSummary> = {};
  for (const spec of buildCaptures()) {
    const { writer, summary } = writeCapture(spec, new Rng(spec.seed ^ 0x7157));
    writeFileSync(join(dir, spec.file), writer.bytes());
    captures[spec.file] = summary;
    process.stdout.write(`wrote ${spec.file}: ${summary.packets} packets, ${summary.bytes} bytes (${summary.timestampResolution})\n`);
  }
  const manifest = {
    generator: 'scripts/make-pcaps.ts',
    note: 'Generated; do not edit. Rebuild with: npx tsc -p . && node dist/scripts/make-pcaps.js',
    rules: FIXTURE_RULES,
    captures,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  process.stdout.write('wrote manifest.json\n');
}

main(process.argv.slice(2));

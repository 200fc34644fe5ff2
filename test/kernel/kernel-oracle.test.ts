/**
 * The kernel oracle on the committed fixtures: every accepted program loads
 * through our own loader (including the two objects libbpf 1.x refuses), the
 * three reject_* objects are refused with the verifier's reasons, and the
 * captures' packets come out of BPF_PROG_TEST_RUN the way an independent
 * reading of the capture (and of fixtures/pcap/manifest.json) says they must.
 * Without root / CAP_BPF the reason is printed and the checks are skipped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runningKernelFunctions } from '../../offload/verifier/kfunc-protos.js';
import { UnsupportedError } from '../../xdp/errors.js';
import { KernelError } from '../../xdp/kernel/bpf-syscall.js';
import {
  kernelAvailable, loadObjectIntoKernel, ShortPacketError, XDP_TEST_RUN_MIN_BYTES, type KernelObject,
} from '../../xdp/kernel/kernel-oracle.js';
import { loadObjectFile, type LoadedObject } from '../../xdp/object/load-object.js';
import { REPO, builtWithoutDebugInfo } from '../support/paths.js';
import { pcapPackets } from './pcap-packets.js';

const OBJ = join(REPO, 'fixtures', 'obj');
const PCAP = join(REPO, 'fixtures', 'pcap');

interface Capture { packets: number; counts: Record<string, number>; kinds: string[] }
interface Manifest {
  rules: { firewall: { saddr: string; daddr: string; sport: number; dport: number; proto: number }[] };
  captures: Record<string, Capture>;
}
const manifest = JSON.parse(readFileSync(join(PCAP, 'manifest.json'), 'utf8')) as Manifest;
const mixed = pcapPackets(join(PCAP, 'mixed.pcap'));
const mixedKinds = manifest.captures['mixed.pcap']!.kinds;

const obj = (name: string): LoadedObject => loadObjectFile(join(OBJ, `${name}.o`));
const openFds = (): number => readdirSync('/proc/self/fd').length;
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const le64 = (b: Uint8Array, at = 0): number => Number(Buffer.from(b).readBigUInt64LE(at));

/** Run `k` over `packets`: the retval of each packet, undefined for the ones too short to run. */
function runAll(k: KernelObject, packets: readonly Uint8Array[]): { retvals: (number | undefined)[]; skipped: number } {
  let skipped = 0;
  const retvals = packets.map((p) => {
    try {
      return k.run(p).retval;
    } catch (e) {
      if (!(e instanceof ShortPacketError)) throw e;
      skipped++;
      return undefined;
    }
  });
  return { retvals, skipped };
}

function withKernel<T>(o: LoadedObject, opts: Parameters<typeof loadObjectIntoKernel>[1], fn: (k: KernelObject) => T): T {
  const k = loadObjectIntoKernel(o, opts);
  try {
    return fn(k);
  } finally {
    k.close();
  }
}

// Independent reading of a frame's headers (no VLAN walking: the fixtures below do not walk tags either).
const etherType = (p: Uint8Array): number => (p.length >= 14 ? (p[12]! << 8) | p[13]! : -1);
function ipProto(p: Uint8Array): number | undefined {
  if (etherType(p) === 0x0800 && p.length >= 34) return p[23];
  if (etherType(p) === 0x86dd && p.length >= 54) return p[20];
  return undefined;
}

/**
 * Kernel verdicts recorded in docs/fixtures.md (Linux 6.18): program → verified_insns.
 * (tc_pass_all of basic_actions is not XDP and is refused by our loader.)
 */
const ACCEPTED: Record<string, Record<string, number>> = {
  alu32_jmp32: { xdp_port_range: 51 },
  basic_actions: { xdp_drop_all: 2, xdp_abort_all: 2, xdp_pass_all: 2, xdp_tx_all: 2 },
  fib_lookup: { xdp_fib_forward: 114 },
  firewall_5tuple: { xdp_firewall: 85 },
  flow_lru: { xdp_flow_lru: 113 },
  ipip_encap: { xdp_ipip_encap: 174 },
  ipv6_ext_walk: { xdp_ipv6_ext_walk: 16454 },
  legacy_maps: { xdp_legacy_count: 84 },
  mac_swap_tx: { xdp_mac_swap_tx: 51 },
  map_in_map: { xdp_map_in_map: 55 },
  parse_l3: { xdp_parse_l3: 189 },
  proto_count_array: { xdp_proto_count: 49 },
  proto_count_percpu: { xdp_proto_count_percpu: 51 },
  redirect_devmap: { xdp_redirect_devmap: 27 },
  rodata_config: { xdp_rodata_config: 56 },
  subprog_call: { xdp_check_ipv4_csum: 57 },
  tail_call: { xdp_dispatch: 27, xdp_handle_ipv4: 14, xdp_handle_ipv6: 14 },
  truncate_tail: { xdp_truncate_tail: 20 },
  rw_kfunc_ct: { xdp_ct_filter: 58 },
  rw_kfunc_ct_mark: { xdp_ct_mark: 77 },
  rw_large_lb: { xdp_large_lb: 18119 },
  rw_nfp_verdicts: { xdp_dump_head: 29, xdp_action_map: 10, xdp_by_ifindex: 13, xdp_devmap_mark: 12, xdp_frags_count: 11, xdp_cpumap_count: 12 },
  rw_rodata_config: { xdp_configured: 174 },
  rw_pmtu_reply: { xdp_pmtu_reply: 168, xdp_meta_stamp: 32 },
  rw_syn_cookie: { xdp_syn_cookie: 272 },
  rw_tcp_options: { xdp_tcp_mss: 44711, xdp_tcp_mss_sub: 51366 },
  rw_tail_dispatch: { xdp_ttl_verdict: 19, xdp_dispatch_by_proto: 32 },
  rw_xdp_load_bytes: { xdp_frags_count: 212, xdp_grow_tail: 59 },
  rw_legacy_sections: { xdp_count_proto: 27, xdp_pass_legacy: 2 },
  rw_map_in_map_u32: { xdp_map_in_map_u32: 47 },
  rw_max_entries_zero: { xdp_new_flows: 51 },
  rw_static_progs: { tail_ipv4: 14, tail_ipv6: 14, tail_other: 2, xdp_tail_entry: 45 },
  rw_no_debug_info: { xdp_v6_redirect: 18 },
};
/** Objects libbpf refuses before the verifier sees them: a kfunc the running kernel lacks. */
const LOADER_REFUSED: Record<string, { kfunc: string; message: RegExp }> = {
  rw_kfunc_missing: {
    kfunc: 'bpf_xdp_flow_lookup',
    message: /extern \(func ksym\) 'bpf_xdp_flow_lookup': not found in kernel or module BTFs/,
  },
};
const kernelFuncs = runningKernelFunctions();
const sameKernelAsDocs = release().startsWith('6.18.');

const available = kernelAvailable();

const oracleWhyNot = !available.ok
  ? available.reason
  : !available.privileged
    ? 'the verifier runs unprivileged here (no CAP_PERFMON / CAP_SYS_ADMIN), and the fixtures\' verdicts are recorded for root'
    : undefined;
if (oracleWhyNot !== undefined) console.log(`SKIP the kernel oracle: ${oracleWhyNot}`);

describe.skipIf(oracleWhyNot !== undefined)(`the kernel oracle${oracleWhyNot === undefined ? '' : ` (skipped: ${oracleWhyNot})`}`, () => {
  if (oracleWhyNot === undefined && !sameKernelAsDocs) console.log(`test/kernel: kernel ${release()}, not 6.18: verified_insns not compared with docs/fixtures.md`);

  it('covers every fixture object', () => {
    const all = readdirSync(OBJ).filter((f) => f.endsWith('.o')).map((f) => f.slice(0, -2)).sort();
    const reject = all.filter((n) => n.startsWith('reject_'));
    expect(reject).toEqual(['reject_unbounded_loop', 'reject_unchecked_read', 'reject_uninit_stack']);
    expect([...Object.keys(ACCEPTED), ...Object.keys(LOADER_REFUSED), ...reject].sort()).toEqual(all);
  });

  describe('objects the loader refuses as libbpf would', () => {
    for (const [name, { kfunc, message }] of Object.entries(LOADER_REFUSED)) {
      const present = kernelFuncs?.proto(kfunc) !== undefined;
      it.skipIf(present)(`${name}${present ? ` (skipped: kernel ${release()} has ${kfunc})` : ''}`, () => {
        expect(() => loadObjectIntoKernel(obj(name))).toThrow(message);
      });
    }
  });

  describe('every accepted program loads', () => {
    for (const [name, programs] of Object.entries(ACCEPTED)) {
      for (const [program, verified] of Object.entries(programs)) {
        it(`${name}: ${program}`, () => {
          withKernel(obj(name), { program }, (k) => {
            expect(k.program.name).toBe(program);
            expect(k.info.type).toBe(6);
            expect(k.info.verifiedInsns).toBeGreaterThan(0);
            if (sameKernelAsDocs) expect(k.info.verifiedInsns).toBe(verified);
            expect(k.verifierLog).toMatch(/processed \d+ insns/);
            expect(k.btf).toEqual(builtWithoutDebugInfo(name) ? { loaded: false, reason: 'the object has no .BTF section' } : { loaded: true });
            expect(k.maps.length).toBe(obj(name).maps.length);
          });
        });
      }
    }

    it('basic_actions: the legacy xdp/pass section is found by section name, the tc program is refused as not XDP', () => {
      withKernel(obj('basic_actions'), { program: 'xdp/pass' }, (k) => {
        expect(k.program.name).toBe('xdp_pass_all');
        expect(k.program.section).toBe('xdp/pass');
      });
      expect(() => loadObjectIntoKernel(obj('basic_actions'), { program: 'tc_pass_all' })).toThrow(UnsupportedError);
      expect(() => loadObjectIntoKernel(obj('basic_actions'))).toThrow(/4 XDP programs/);
    });

    it('legacy_maps: the `maps` section definitions become kernel maps', () => {
      withKernel(obj('legacy_maps'), {}, (k) => {
        expect(k.maps.map((m) => [m.kernelName, m.def.type, m.def.keySize, m.def.valueSize, m.def.maxEntries])).toEqual([
          ['ethertype_count', 2, 4, 8, 4],
          ['total_bytes', 2, 4, 8, 1],
        ]);
      });
    });

    it('tail_call: the entry is chosen by default and the PROG_ARRAY slots hold the handlers', () => {
      withKernel(obj('tail_call'), {}, (k) => {
        expect(k.program.name).toBe('xdp_dispatch');
        expect(k.programs.map((p) => p.name).sort()).toEqual(['xdp_dispatch', 'xdp_handle_ipv4', 'xdp_handle_ipv6']);
        const slots = k.readMap('jmp_table');
        const ids = new Map(k.programs.map((p) => [p.info.id, p.name]));
        // A PROG_ARRAY read from user space gives program ids.
        expect(slots.map((e) => [e.key[0], ids.get(Buffer.from(e.values[0]!).readUInt32LE(0))])).toEqual([
          [0, 'xdp_handle_ipv4'], [1, 'xdp_handle_ipv6'],
        ]);
      });
    });

    it('rodata_config: global data gets libbpf\'s names, its initial values, and .rodata is frozen', () => {
      withKernel(obj('rodata_config'), {}, (k) => {
        expect(k.maps.map((m) => m.kernelName)).toEqual(['rodata_c.rodata', 'rodata_c.data', 'rodata_c.bss']);
        expect([...k.readMap('.rodata')[0]!.values[0]!.subarray(0, 2)]).toEqual([23, 0]);
        expect([...k.readMap('.data')[0]!.values[0]!]).toEqual([1, 0, 0, 0]);
        let err: unknown;
        try {
          k.writeMap('.rodata', u32(0), new Uint8Array([24, 0]));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(KernelError);
        expect((err as KernelError).errnoName).toBe('EPERM');
      });
    });

    it('map_in_map: the outer map\'s slots hold the inner maps (read back as map ids)', () => {
      withKernel(obj('map_in_map'), {}, (k) => {
        const outer = k.readMap('per_family');
        expect(outer.map((e) => e.key[0])).toEqual([0, 1]);
        for (const e of outer) expect(Buffer.from(e.values[0]!).readUInt32LE(0)).toBeGreaterThan(0);
      });
    });
  });

  describe('the reject_* fixtures are refused with the verifier log', () => {
    it('reject_unchecked_read: EACCES at the unchecked packet read, source line shown', () => {
      const e = refusal('reject_unchecked_read');
      expect(e.errnoName).toBe('EACCES');
      expect(e.log).toMatch(/1: \(71\) r2 = \*\(u8 \*\)\(r1 \+12\)\ninvalid access to packet, off=12 size=1, R1\(id=0,off=12,r=0\)\nR1 offset is outside of the packet/);
      expect(e.log).toContain('; if (eth->h_proto == bpf_htons(ETH_P_IP)) @ reject_unchecked_read.c:23');
      expect(e.message).toMatch(/xdp_reject_unchecked_read.*EACCES.*R1 offset is outside of the packet/);
    });

    it('reject_uninit_stack: EACCES, a scalar dereferenced at insn 7', () => {
      const e = refusal('reject_uninit_stack');
      expect(e.errnoName).toBe('EACCES');
      expect(e.log).toMatch(/6: \(79\) r1 = \*\(u64 \*\)\(r10 -8\) +; R1=scalar\(\) R10=fp0\n7: \(71\) r2 = \*\(u8 \*\)\(r1 \+12\)\nR1 invalid mem access 'scalar'/);
    });

    it('reject_unbounded_loop / xdp_spin_until_resumed: EINVAL, infinite loop at insn 12', () => {
      const e = refusal('reject_unbounded_loop', 'xdp_spin_until_resumed');
      expect(e.errnoName).toBe('EINVAL');
      expect(e.log).toMatch(/infinite loop detected at insn 12\n/);
      expect(e.log).toMatch(/processed 23 insns \(limit 1000000\)/);
    });

    it('reject_unbounded_loop / xdp_repeat_from_packet: the 1M-instruction budget runs out (E2BIG; the log overflows)', () => {
      // With a log, the 16 MiB buffer overflows and the kernel says ENOSPC (what bpftool
      // reported in docs/fixtures.md); the verdict without a log is E2BIG
      // ("BPF program is too large"), and the kept end of the log says so.
      const e = refusal('reject_unbounded_loop', 'xdp_repeat_from_packet');
      expect(e.errnoName).toBe('E2BIG');
      expect(e.log).toMatch(/13: \(07\) r2 \+= 1\nBPF program is too large\. Processed 1000001 insn\n/);
      expect(e.log).toMatch(/processed 1000001 insns \(limit 1000000\)/);
    });

    function refusal(name: string, program?: string): KernelError {
      const before = openFds();
      let caught: unknown;
      try {
        loadObjectIntoKernel(obj(name), program ? { program } : {}).close();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(KernelError);
      const e = caught as KernelError;
      expect(e.command).toBe('BPF_PROG_LOAD');
      expect(e.verifierLog).toBe(e.log);
      // Maps and BTF created before the refusal were closed again.
      expect(openFds()).toBe(before);
      return e;
    }
  });

  describe('mixed.pcap through the kernel', () => {
    const runts = manifest.captures['mixed.pcap']!.counts['runt'] ?? 0;

    it('reads the capture the manifest describes', () => {
      expect(mixed.length).toBe(manifest.captures['mixed.pcap']!.packets);
      expect(mixedKinds.length).toBe(mixed.length);
      expect(mixed.filter((p) => p.length < XDP_TEST_RUN_MIN_BYTES).length).toBe(runts);
      expect(runts).toBeGreaterThan(0);
    });

    const actions: [string, number][] = [['xdp_abort_all', 0], ['xdp_drop_all', 1], ['xdp_pass_all', 2], ['xdp_tx_all', 3]];
    for (const [program, action] of actions) {
      it(`basic_actions ${program}: every packet gives ${action}, runts are skipped`, () => {
        withKernel(obj('basic_actions'), { program }, (k) => {
          const { retvals, skipped } = runAll(k, mixed);
          expect(skipped).toBe(runts);
          retvals.forEach((r, i) => expect(r).toBe(mixed[i]!.length < 14 ? undefined : action));
        });
      });
    }

    it('a short packet is a ShortPacketError that says why', () => {
      withKernel(obj('basic_actions'), { program: 'xdp_drop_all' }, (k) => {
        const e = (() => {
          try {
            k.run(new Uint8Array(13));
          } catch (err) {
            return err;
          }
          return undefined;
        })();
        expect(e).toBeInstanceOf(ShortPacketError);
        expect((e as ShortPacketError).length).toBe(13);
        expect((e as Error).message).toMatch(/ETH_HLEN/);
        expect(k.run(new Uint8Array(14)).retval).toBe(1);
      });
    });

    it('mac_swap_tx: XDP_TX with the two MAC addresses swapped and nothing else changed', () => {
      withKernel(obj('mac_swap_tx'), {}, (k) => {
        for (const p of mixed) {
          if (p.length < 14) continue;
          const r = k.run(p);
          expect(r.retval).toBe(3);
          const want = new Uint8Array(p);
          want.set(p.subarray(6, 12), 0);
          want.set(p.subarray(0, 6), 6);
          expect(Buffer.from(r.data).equals(Buffer.from(want))).toBe(true);
        }
      });
    });

    it('firewall_5tuple: the manifest\'s rules drop exactly the firewall-hit packets and count them', () => {
      withKernel(obj('firewall_5tuple'), {}, (k) => {
        const rules = manifest.rules.firewall;
        expect(rules.length).toBe(3);
        const keyOf = (r: (typeof rules)[number]): Uint8Array => {
          const key = Buffer.alloc(16);
          r.saddr.split('.').forEach((b, i) => key.writeUInt8(Number(b), i));
          r.daddr.split('.').forEach((b, i) => key.writeUInt8(Number(b), 4 + i));
          key.writeUInt16BE(r.sport, 8);
          key.writeUInt16BE(r.dport, 10);
          key.writeUInt8(r.proto, 12);
          return new Uint8Array(key);
        };
        for (const r of rules) k.writeMap('fw_rules', keyOf(r), new Uint8Array(8));
        const { retvals } = runAll(k, mixed);
        retvals.forEach((r, i) => {
          if (r === undefined) return;
          expect([i, mixedKinds[i], r]).toEqual([i, mixedKinds[i], mixedKinds[i]!.startsWith('firewall-hit-') ? 1 : 2]);
        });
        rules.forEach((r, i) => {
          const hits = k.lookupMap('fw_rules', keyOf(r))!;
          expect(le64(hits[0]!)).toBe(manifest.captures['mixed.pcap']!.counts[`firewall-hit-${i}`]);
        });
      });
    });

    it('proto_count_array and proto_count_percpu: counters match a count made from the capture', () => {
      const want = new Map<number, { packets: number; bytes: number }>();
      for (const p of mixed) {
        const proto = ipProto(p);
        if (proto === undefined) continue;
        const c = want.get(proto) ?? { packets: 0, bytes: 0 };
        c.packets++;
        c.bytes += p.length;
        want.set(proto, c);
      }
      expect(want.size).toBeGreaterThan(3);
      for (const [name, map] of [['proto_count_array', 'proto_stats'], ['proto_count_percpu', 'proto_stats_percpu']] as const) {
        withKernel(obj(name), {}, (k) => {
          const { retvals } = runAll(k, mixed);
          expect(retvals.every((r) => r === undefined || r === 2)).toBe(true);
          const entries = k.readMap(map);
          expect(entries.length).toBe(256);
          const got = new Map<number, { packets: number; bytes: number }>();
          for (const e of entries) {
            expect(e.values.length).toBe(map === 'proto_stats' ? 1 : k.cpus);
            const packets = e.values.reduce((s, v) => s + le64(v, 0), 0);
            const bytes = e.values.reduce((s, v) => s + le64(v, 8), 0);
            if (packets > 0 || bytes > 0) got.set(Buffer.from(e.key).readUInt32LE(0), { packets, bytes });
          }
          expect(new Map([...got].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...want].sort((a, b) => a[0] - b[0])));
        });
      }
    });

    it('legacy_maps, map_in_map, rodata_config: counters and drops match the capture', () => {
      const runnable = mixed.filter((p) => p.length >= 14);
      const ipv4 = runnable.filter((p) => etherType(p) === 0x0800).length;
      const ipv6 = runnable.filter((p) => etherType(p) === 0x86dd).length;
      const arp = runnable.filter((p) => etherType(p) === 0x0806).length;
      withKernel(obj('legacy_maps'), {}, (k) => {
        runAll(k, mixed);
        expect(k.readMap('ethertype_count').map((e) => le64(e.values[0]!))).toEqual([ipv4, ipv6, arp, runnable.length - ipv4 - ipv6 - arp]);
        expect(le64(k.readMap('total_bytes')[0]!.values[0]!)).toBe(runnable.reduce((s, p) => s + p.length, 0));
      });
      withKernel(obj('map_in_map'), {}, (k) => {
        runAll(k, mixed);
        const count = (m: string): number => le64(k.readMap(m)[0]!.values[0]!);
        expect([count('ipv4_packets'), count('ipv6_packets'), count('all_packets')]).toEqual([ipv4, ipv6, runnable.length]);
      });
      // TCP/UDP over IPv4 without options, to port 23.
      const telnet = (p: Uint8Array): boolean =>
        etherType(p) === 0x0800 && p.length >= 42 && p[14] === 0x45 && (p[23] === 6 || p[23] === 17) && ((p[36]! << 8) | p[37]!) === 23;
      withKernel(obj('rodata_config'), {}, (k) => {
        const { retvals } = runAll(k, mixed);
        retvals.forEach((r, i) => r !== undefined && expect([i, r]).toEqual([i, telnet(mixed[i]!) ? 1 : 2]));
        const bss = k.readMap('.bss')[0]!.values[0]!;
        expect([le64(bss, 0), le64(bss, 8)]).toEqual([runnable.length, runnable.filter(telnet).length]);
        expect(runnable.filter(telnet).length).toBe(manifest.captures['mixed.pcap']!.counts['telnet']);
      });
    });

    it('tail_call: the handlers reached through the PROG_ARRAY drop what docs/fixtures.md says; an empty slot falls through', () => {
      const dropKinds = new Set(['ipv4-ttl-1', 'ipv4-options', 'ipv6-hop-limit-1', 'ethernet-only', 'truncated-ipv4', 'truncated-ipv6']);
      withKernel(obj('tail_call'), {}, (k) => {
        const { retvals } = runAll(k, mixed);
        retvals.forEach((r, i) => r !== undefined && expect([mixedKinds[i], r]).toEqual([mixedKinds[i], dropKinds.has(mixedKinds[i]!) ? 1 : 2]));
        // Without the IPv4 handler the dispatcher's fall-through (XDP_PASS) decides.
        const ttl1 = mixed[mixedKinds.indexOf('ipv4-ttl-1')]!;
        expect(k.run(ttl1).retval).toBe(1);
        k.deleteMap('jmp_table', u32(0));
        expect(k.run(ttl1).retval).toBe(2);
      });
    });

    it('redirect_devmap: an empty devmap falls back to XDP_PASS; with lo in the slot, XDP_REDIRECT (4) is returned', () => {
      withKernel(obj('redirect_devmap'), {}, (k) => {
        const ip = mixed.filter((p) => etherType(p) === 0x0800 || etherType(p) === 0x86dd);
        const other = mixed.filter((p) => p.length >= 14 && etherType(p) !== 0x0800 && etherType(p) !== 0x86dd);
        expect(runAll(k, mixed).retvals.every((r) => r === undefined || r === 2)).toBe(true);
        // A devmap takes only existing ifindexes.
        expect(() => k.writeMap('tx_ports', u32(1), u32(0x7fffffff))).toThrow(KernelError);
        k.writeMap('tx_ports', u32(0), u32(1));
        expect(ip.map((p) => k.run(p).retval).every((r) => r === 4)).toBe(true);
        expect(other.map((p) => k.run(p).retval).every((r) => r === 2)).toBe(true);
        // The same through an explicit context: ingress lo, queue 0 (lo has one queue).
        expect(k.run(ip[0]!, { ingressIfindex: 1, rxQueueIndex: 0 }).retval).toBe(4);
        expect(() => k.run(ip[0]!, { ingressIfindex: 1, rxQueueIndex: 5 })).toThrow(/BPF_PROG_TEST_RUN.*EINVAL/);
        expect(() => k.run(ip[0]!, { ingressIfindex: 0x7fffffff })).toThrow(/ENODEV/);
      });
    });
  });

  describe('repeat, maps, fds', () => {
    it('repeat N runs the program N times on one buffer: counters grow by N, each run sees the previous output', () => {
      const p = mixed.find((x) => ipProto(x) === 17)!;
      withKernel(obj('proto_count_array'), {}, (k) => {
        const r = k.run(p, undefined, 1000);
        expect(r.retval).toBe(2);
        expect(r.durationNs).toBeGreaterThan(0);
        expect(le64(k.lookupMap('proto_stats', u32(17))![0]!)).toBe(1000);
      });
      withKernel(obj('mac_swap_tx'), {}, (k) => {
        expect(Buffer.from(k.run(p, undefined, 2).data).equals(Buffer.from(p))).toBe(true);
        expect(Buffer.from(k.run(p, undefined, 3).data).equals(Buffer.from(p))).toBe(false);
      });
    });

    it('writeMap / lookupMap / deleteMap on a per-CPU map: one value for all CPUs or one per CPU', () => {
      withKernel(obj('proto_count_percpu'), {}, (k) => {
        const v = new Uint8Array(16);
        v[0] = 5;
        k.writeMap('proto_stats_percpu', u32(6), v);
        expect(k.lookupMap('proto_stats_percpu', u32(6))!.map((x) => x[0])).toEqual(Array(k.cpus).fill(5));
        const per = Array.from({ length: k.cpus }, (_, c) => new Uint8Array(16).fill(c + 1));
        k.writeMap('proto_stats_percpu', u32(7), per);
        expect(k.lookupMap('proto_stats_percpu', u32(7))!.map((x) => x[15])).toEqual(per.map((x) => x[15]));
        expect(() => k.writeMap('proto_stats_percpu', u32(7), per.slice(1))).toThrow(/needs \d+ values/);
        expect(() => k.readMap('no_such_map')).toThrow(/no map 'no_such_map'/);
      });
      withKernel(obj('flow_lru'), {}, (k) => {
        const key = new Uint8Array(16).fill(1);
        expect(k.lookupMap('flows', key)).toBeUndefined();
        k.writeMap('flows', key, new Uint8Array(32).fill(2));
        expect(k.readMap('flows').length).toBe(1);
        k.deleteMap('flows', key);
        expect(k.readMap('flows')).toEqual([]);
      });
    });

    it('close() releases every fd (counted in /proc/self/fd), and twice is harmless', () => {
      const objects = ['tail_call', 'map_in_map', 'rodata_config', 'proto_count_percpu', 'legacy_maps'].map(obj);
      const before = openFds();
      const loaded = objects.map((o) => loadObjectIntoKernel(o));
      for (const k of loaded) k.run(mixed.find((p) => p.length >= 60)!);
      // programs + maps + BTF of each object are open now.
      const expected = loaded.reduce((s, k) => s + k.programs.length + k.maps.length + 1, 0);
      expect(openFds() - before).toBe(expected);
      for (const k of loaded) k.close();
      expect(openFds()).toBe(before);
      loaded[0]!.close();
      expect(() => loaded[0]!.run(new Uint8Array(64))).toThrow(/closed/);
    });

    it('loads without BTF when asked (the log then has no source lines)', () => {
      withKernel(obj('parse_l3'), { btf: false, logLevel: 2 }, (k) => {
        expect(k.btf).toEqual({ loaded: false, reason: 'not requested' });
        expect(k.info.btfId).toBe(0);
        expect(k.verifierLog).not.toMatch(/ @ parse_l3\.c:/);
        expect(k.verifierLog).toMatch(/processed 189 insns|processed \d+ insns/);
      });
      withKernel(obj('parse_l3'), { logLevel: 2 }, (k) => {
        expect(k.info.btfId).toBeGreaterThan(0);
        expect(k.info.nrLineInfo).toBeGreaterThan(0);
        expect(k.verifierLog).toMatch(/ @ parse_l3\.c:\d+/);
      });
    });
  });
});

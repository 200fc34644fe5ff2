/**
 * The same packets through the same programs in the three engines — the
 * compiling engine, the reference interpreter and the running kernel
 * (BPF_PROG_TEST_RUN) — must give the same action, the same output bytes and
 * the same final maps. Packets: every capture in fixtures/pcap and every
 * Ethernet capture of ../shared/pcaps/tcpdump (MANIFEST.tsv, link type 1).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAvailable, loadObjectIntoKernel } from '../../xdp/kernel/kernel-oracle.js';
import type { BpfMap } from '../../xdp/maps/bpf-map.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import { loadObjectFile } from '../../xdp/object/load-object.js';
import { openCapture } from '../../xdp/pcap/capture.js';
import { kernelPacketEngine, mapsFromKernel } from '../../xdp/replay/kernel-engine.js';
import type { PacketEngine } from '../../xdp/replay/replay.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { ETH_HLEN, XDP_MAX_PACKET } from '../../xdp/runtime/xdp-buff.js';
import { REPO, SHARED, fixtureObjects, sharedExists } from '../support/paths.js';

const TCPDUMP = join(SHARED, 'pcaps', 'tcpdump');

function ethernetCaptures(): string[] {
  const own = ['mixed', 'mixed-ns', 'ipv6-ext', 'short-frames', 'firewall', 'jumbo', 'tcp-options'].map((n) => join(REPO, 'fixtures', 'pcap', `${n}.pcap`));
  if (!sharedExists('pcaps/tcpdump/MANIFEST.tsv')) {
    console.log(`SKIP tcpdump captures in the differential test: ${TCPDUMP} is absent`);
    return own;
  }
  const rows = readFileSync(join(TCPDUMP, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  return [...own, ...rows.filter((r) => r[3] === '1').map((r) => join(TCPDUMP, r[0]!))];
}

/** Every runnable packet of every capture, copied (a test run takes 14..73152 bytes: 3520 in the frame, the rest in fragments). */
function loadPackets(): { packets: Uint8Array[]; captures: number } {
  const packets: Uint8Array[] = [];
  const files = ethernetCaptures();
  for (const file of files) {
    const cap = openCapture(file, { copy: true });
    try {
      for (const rec of cap) if (rec.linkType === 1 && rec.capLen >= ETH_HLEN && rec.capLen <= XDP_MAX_PACKET) packets.push(rec.data);
    } catch {
      // A capture whose framing breaks midway: the packets before the break are kept.
    }
  }
  return { packets, captures: files.length };
}

/** Objects (or object/program) whose results the kernel cannot give here: compared between host engines only. */
const HOST_ONLY: Readonly<Record<string, string>> = {
  fib_lookup: 'bpf_fib_lookup answers from the machine\'s routing table, which the host engine takes from a route file',
  rw_kfunc_ct: 'kfuncs (bpf_xdp_ct_lookup) run only in the kernel: the host engines abort at the call',
  rw_kfunc_ct_mark: 'kfuncs (bpf_xdp_ct_lookup) run only in the kernel: the host engines abort at the call',
  rw_syn_cookie: 'SYN cookies hash with the kernel\'s secret: the host engines abort at the call (test/realworld/syn-cookie.test.ts checks the kernel\'s replies)',
  'rw_nfp_verdicts/xdp_devmap_mark': 'a devmap program cannot be test-run: BPF_PROG_TEST_RUN refuses expected attach type BPF_XDP_DEVMAP (EINVAL)',
  'rw_nfp_verdicts/xdp_cpumap_count': 'a cpumap program cannot be test-run: BPF_PROG_TEST_RUN refuses expected attach type BPF_XDP_CPUMAP (EINVAL)',
  rw_kfunc_missing: 'the kernel lacks bpf_xdp_flow_lookup, so the object does not load there; the host engines abort at the call',
};
/** Maps whose values hold timestamps (bpf_ktime_get_ns): the kernel's clock is not the capture's. */
const CLOCK_MAPS: ReadonlySet<string> = new Set(['flows']);

/** Map contents as comparable text: per-CPU values summed as u64 words (the kernel runs each test on some CPU). */
function mapState(maps: readonly BpfMap[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of maps) {
    if (CLOCK_MAPS.has(m.def.name)) continue;
    if ([MAP_TYPE.PROG_ARRAY, MAP_TYPE.ARRAY_OF_MAPS, MAP_TYPE.HASH_OF_MAPS, MAP_TYPE.DEVMAP, MAP_TYPE.XSKMAP, MAP_TYPE.RINGBUF, MAP_TYPE.PERF_EVENT_ARRAY].includes(m.def.type as never)) continue;
    out[m.def.name] = m.keys().map((k) => {
      const values = m.read(k)!;
      const sum = new BigUint64Array(Math.ceil(m.def.valueSize / 8));
      for (const v of values) {
        const padded = new Uint8Array(sum.length * 8);
        padded.set(v.subarray(0, m.def.valueSize));
        new BigUint64Array(padded.buffer).forEach((w, i) => (sum[i] = BigInt.asUintN(64, sum[i]! + w)));
      }
      return `${Buffer.from(k).toString('hex')}=${Array.from(sum, (w) => w.toString(16)).join(',')}`;
    }).sort();
  }
  return out;
}

/** Map entries written before the run, so that the program has something to act on. */
type MapWrite = { map: string; key: Uint8Array; value: Uint8Array };
const ipv4 = (text: string) => Uint8Array.from(text.split('.').map(Number));
const SETUP: Readonly<Record<string, (valueSize: (map: string) => number) => MapWrite[]>> = {
  // The capture manifest's firewall rules, as struct fw_key { be32 saddr, daddr; be16 sport, dport; u8 proto; u8 pad[3] }.
  firewall_5tuple: (size) => (JSON.parse(readFileSync(join(REPO, 'fixtures', 'pcap', 'manifest.json'), 'utf8')).rules.firewall as
    { saddr: string; daddr: string; sport: number; dport: number; proto: number }[]).map((r) => {
    const key = new Uint8Array(16);
    const v = new DataView(key.buffer);
    key.set(ipv4(r.saddr), 0);
    key.set(ipv4(r.daddr), 4);
    v.setUint16(8, r.sport);
    v.setUint16(10, r.dport);
    key[12] = r.proto;
    return { map: 'fw_rules', key, value: new Uint8Array(size('fw_rules')) };
  }),
  // Every tx_ports slot sends to ifindex 1 (lo, which exists wherever the kernel runs).
  redirect_devmap: (size) => [0, 1, 2, 3].map((slot) => {
    const value = new Uint8Array(size('tx_ports'));
    value[0] = 1;
    return { map: 'tx_ports', key: Uint8Array.of(slot, 0, 0, 0), value };
  }),
};

interface Outcome { action: string; bytes: string }

function runAll(engine: PacketEngine, packets: readonly Uint8Array[]): Outcome[] {
  return packets.map((p, i) => {
    const r = engine.run(p, i, { ingressIfindex: 1, rxQueueIndex: 0, cpu: 0 });
    return { action: r.actionName, bytes: Buffer.from(r.bytes()).toString('hex') };
  });
}

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`SKIP the kernel in the differential test: ${kernel.reason}`);
else if (!kernel.privileged) console.log('SKIP the kernel in the differential test: not privileged (root verifier mode needed for the fixtures)');
const useKernel = kernel.ok && kernel.privileged;

describe('engines agree: compiled, interpreter, kernel', () => {
  const { packets, captures } = loadPackets();
  const objects = fixtureObjects().filter((p) => !basename(p).startsWith('reject_'));
  let compared = 0;

  for (const path of objects) {
    const name = basename(path, '.o');
    const obj = loadObjectFile(path);
    for (const program of obj.programs) {
      it(`${name}/${program.name}`, () => {
        const writes = SETUP[name]?.((m) => obj.maps.find((d) => d.name === m)!.valueSize) ?? [];
        const prepared = (engine: 'compiled' | 'interp', cpus: number) => {
          const m = new XdpMachine(obj, program, { engine, cpus });
          for (const w of writes) expect(m.maps.find((x) => x.def.name === w.map)!.write(w.key, [w.value], 0)).toBe(0);
          return m;
        };
        const compiled = prepared('compiled', 1);
        const interp = prepared('interp', 1);
        const a = runAll(compiled, packets);
        const b = runAll(interp, packets);
        expect(a.findIndex((x, i) => x.action !== b[i]!.action || x.bytes !== b[i]!.bytes)).toBe(-1);
        expect(mapState(compiled.maps)).toEqual(mapState(interp.maps));
        compared += packets.length;
        const seen: Record<string, number> = {};
        for (const o of a) seen[o.action] = (seen[o.action] ?? 0) + 1;
        const changed = a.filter((o, i) => o.bytes !== Buffer.from(packets[i]!).toString('hex')).length;
        console.log(`${name}/${program.name}: ${JSON.stringify(seen)}, ${changed} packets rewritten`);
        if (!useKernel) return;
        const hostOnly = HOST_ONLY[`${name}/${program.name}`] ?? HOST_ONLY[name];
        if (hostOnly) {
          console.log(`kernel not compared for ${name}/${program.name}: ${hostOnly}`);
          return;
        }
        const k = loadObjectIntoKernel(obj, { program: program.name });
        try {
          for (const w of writes) k.writeMap(w.map, w.key, w.value, 0);
          const c = runAll(kernelPacketEngine(k), packets);
          const first = c.findIndex((x, i) => x.action !== a[i]!.action || x.bytes !== a[i]!.bytes);
          if (first >= 0) {
            expect({ packet: first, kernel: c[first], host: a[first] }).toEqual({ packet: first, kernel: a[first], host: a[first] });
          }
          const host = prepared('compiled', k.cpus);
          runAll(host, packets);
          expect(mapState(mapsFromKernel(obj, k))).toEqual(mapState(host.maps));
        } finally {
          k.close();
        }
      });
    }
  }

  it('compared every packet', () => {
    console.log(`differential: ${packets.length} packets from ${captures} captures through ${compared / Math.max(packets.length, 1)} programs; kernel ${useKernel ? 'included' : 'not available'}`);
    // The project's own captures hold over 500 runnable packets; with the tcpdump corpus, over 5000.
    expect(packets.length).toBeGreaterThan(sharedExists('pcaps/tcpdump/MANIFEST.tsv') ? 5000 : 500);
  });
});

/**
 * `npm run bench:calibration`: the nfp-4000 model's predictions beside the published
 * figures docs/calibration.md cites — XDP_DROP on the whole card, a rewrite-and-forward
 * program (mac_swap_tx: swap the MAC addresses, XDP_TX) on one core, and the memory
 * latencies a thread sleeps on — with the profile's parameters as they are (nothing is
 * fitted here). Traffic: 64-byte UDP frames over 4,096 flows. The memory latencies
 * are printed beside the published table they were taken from, and the memories no
 * source gives are marked as assumptions.
 */
import { resolve, join } from 'node:path';
import { resolveProfile } from '../caps/load-profile.js';
import { CardEngine } from '../nic-sim/replay/card-engine.js';
import { cardFigures } from '../nic-sim/timing/capacity.js';
import { jitProgram } from '../offload/jit/jit-program.js';
import { findPrograms, loadObjectFile } from '../xdp/object/load-object.js';
import type { CaptureRecord } from '../xdp/pcap/capture-record.js';
import { udpFrame } from './lib/udp-frames.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const { profile } = resolveProfile('nfp-4000');

function run(file: string, name: string, engines?: number) {
  const obj = loadObjectFile(join(ROOT, 'fixtures', 'obj', file));
  const program = findPrograms(obj).find((p) => p.name === name)!;
  const eng = new CardEngine(jitProgram(obj, program, profile).image, profile, {
    file, load: { kind: 'link', mbps: profile.timing.linkMbps }, ...(engines ? { engines } : {}),
  });
  for (let k = 0; k < 20000; k++) {
    const data = udpFrame(k % 4096, 60);
    const rec = { index: k, offset: 0, tsSec: 0, tsNsec: 0, capLen: 60, origLen: 60, interfaceId: 0, linkType: 1, data } as CaptureRecord;
    if (eng.admit(rec) === undefined) eng.run(data, k);
  }
  eng.finish();
  return { eng, f: cardFigures(eng.timing, eng.card.maps.defs.map((d) => d.name)) };
}

const rows: string[][] = [];
const drop = run('basic_actions.o', 'xdp_drop_all');
const dropEngines = drop.f.sustained64.resources.find((r) => r.kind === 'engines' || r.kind === 'threads')!;
rows.push(['XDP_DROP, whole card, 64 B', '32 Mpps (hXDP paper, NFP-4000 comparison)', `${drop.f.sustained64.mpps} Mpps (bottleneck ${drop.f.sustained64.bottleneck}; engines alone ${dropEngines.mpps})`,
  (drop.f.sustained64.mpps / 32).toFixed(2)]);
const fwd = run('mac_swap_tx.o', 'xdp_mac_swap_tx', 1);
const core = fwd.f.sustained64.resources.find((r) => r.kind === 'engines' || r.kind === 'threads')!;
rows.push(['rewrite and forward (mac_swap_tx), one core, 64 B', 'about 3 Mpps per core', `${core.mpps} Mpps (${core.kind}; ${fwd.f.cyclesPerPacket.mean} cycles per packet)`, (core.mpps / 3).toFixed(2)]);

console.log(`calibration of ${profile.name} (parameters as the profile has them; nothing fitted)\n`);
const w = [50, 44, 60, 6];
const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join(' ');
console.log(line(['figure', 'published', 'model', 'ratio']));
for (const r of rows) console.log(line(r));

console.log('\nmemory: cycles a thread sleeps on one 4-byte command: the profile, and Clara (SOSP 2021, nf_state.py) where it gives one');
const clara: Record<string, [number, number, number]> = { ctm: [70, 80, 160], imem: [122, 122, 220], emem: [336, 290, 210] };
for (const m of profile.timing.memories) {
  const c = clara[m.name];
  console.log(`  ${m.name.padEnd(6)} read ${String(m.latencyCycles).padStart(4)}  write ${String(m.writeCycles).padStart(4)}  atomic ${String(m.atomicCycles).padStart(4)}` +
    `   ${c ? `published ${c[0]} / ${c[1]} / ${c[2]}` : 'no published figure: an assumption'}`);
}

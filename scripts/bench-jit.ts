/**
 * `npm run bench:jit`: for every fixture program `offload check` calls offloadable on
 * nfp-4000 (the real-world patterns' included) — eBPF instructions, card instructions
 * with every pass on and with each pass off (what each pass saves), card instructions
 * executed per packet over the project's captures, and the JIT's time (verification
 * with precise scalars plus translation, and translation alone). The summary gives
 * card instructions per eBPF instruction over all instructions and averaged over programs,
 * for the whole image, without the 8-instruction prefetch pad every image ends with, and
 * without the outro too (0, 2, 6 or 10 instructions by the outro-range pass).
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveProfile } from '../caps/load-profile.js';
import { Card } from '../nic-sim/card/card.js';
import { buildImage } from '../offload/jit/image-writer.js';
import { passSavings, translateOptions, translateProgram } from '../offload/jit/jit-program.js';
import { PASSES, translate, type PassName } from '../offload/jit/translate.js';
import { decideOffload } from '../offload/rules/decide.js';
import { findPrograms, loadObjectFile } from '../xdp/object/load-object.js';
import { openCapture } from '../xdp/pcap/capture.js';
import { XDP_MAX_DATA } from '../xdp/runtime/xdp-buff.js';
import { USTORE_PREFETCH_WINDOW } from '../nic-sim/isa/fields.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const OBJ = join(ROOT, 'fixtures', 'obj');
const PCAP = join(ROOT, 'fixtures', 'pcap');
const { profile } = resolveProfile('nfp-4000');
const packets = readdirSync(PCAP).filter((f) => f.endsWith('.pcap')).sort()
  .flatMap((f) => [...openCapture(join(PCAP, f))].map((r) => r.data.slice())).filter((p) => p.length <= XDP_MAX_DATA);

function median(run: () => void, n = 15): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[n >> 1]!;
}

interface Row { name: string; ebpf: number; card: number; tail: number; off: Record<PassName, number>; none: number; steps: number; jitMs: number; translateMs: number }
const rows: Row[] = [];
for (const file of readdirSync(OBJ).filter((f) => f.endsWith('.o')).sort()) {
  const obj = loadObjectFile(join(OBJ, file));
  for (const program of findPrograms(obj)) {
    if (decideOffload(obj, program, profile, { privileged: true }).verdict !== 'offload') continue;
    const { records, card } = translateProgram(obj, program, profile);
    const opts = translateOptions(profile);
    const saved = passSavings(records, profile, card);
    const off = Object.fromEntries(PASSES.map((p) => [p, card.insns.length + saved[p]])) as Record<PassName, number>;
    const sim = new Card(buildImage(card, program, obj.maps, profile), profile, { file });
    let steps = 0;
    for (const p of packets) steps += sim.runPacket(p).counters.steps;
    rows.push({
      name: `${file.replace(/\.o$/, '')}:${program.name}`, ebpf: program.insns.length, card: card.insns.length,
      tail: card.insns.length - card.outroPc, off, none: translate(records.records, translateOptions(profile, new Set(PASSES))).insns.length, steps: steps / packets.length,
      jitMs: median(() => translateProgram(obj, program, profile)),
      translateMs: median(() => translate(records.records, opts)),
    });
  }
}

const w = Math.max(...rows.map((r) => r.name.length));
console.log(`card instructions per offloadable fixture on ${profile.name} (${packets.length} packets of fixtures/pcap per program)`);
console.log(`${'program'.padEnd(w)}  eBPF  card  ratio  ${PASSES.map((p) => `-${p}`.padStart(Math.max(6, p.length + 1))).join(' ')}  run/pkt  jit ms  xlate ms`);
for (const r of rows) {
  const saved = PASSES.map((p) => `+${r.off[p] - r.card}`.padStart(Math.max(6, p.length + 1))).join(' ');
  console.log(`${r.name.padEnd(w)}  ${String(r.ebpf).padStart(4)}  ${String(r.card).padStart(4)}  ${(r.card / r.ebpf).toFixed(2).padStart(5)}  ${saved}  ${r.steps.toFixed(1).padStart(7)}  ${r.jitMs.toFixed(2).padStart(6)}  ${r.translateMs.toFixed(3).padStart(8)}`);
}
const sum = (f: (r: Row) => number) => rows.reduce((n, r) => n + f(r), 0);
const PAD = USTORE_PREFETCH_WINDOW;
const perProgram = (f: (r: Row) => number) => (sum((r) => f(r) / r.ebpf) / rows.length).toFixed(2);
const overAll = (f: (r: Row) => number) => (sum(f) / sum((r) => r.ebpf)).toFixed(2);
console.log(`\n${rows.length} programs, ${sum((r) => r.ebpf)} eBPF instructions → ${sum((r) => r.card)} card instructions (${PAD}-instruction prefetch pad included)`);
console.log('card instructions per eBPF instruction (target ≤ 1.5):');
console.log(`  whole image            ${overAll((r) => r.card)} over all instructions, ${perProgram((r) => r.card)} averaged over programs`);
console.log(`  without the pad        ${overAll((r) => r.card - PAD)} over all instructions, ${perProgram((r) => r.card - PAD)} averaged over programs`);
console.log(`  without outro and pad  ${overAll((r) => r.card - r.tail)} over all instructions (outro and pad: ${(sum((r) => r.tail) / rows.length).toFixed(1)} per image on average)`);
console.log(`saved by each pass (card instructions over all programs): ${PASSES.map((p) => `${p} ${sum((r) => r.off[p] - r.card)}`).join(', ')}`);
const none = sum((r) => r.none);
console.log(`with every pass off: ${none} card instructions (${(none / sum((r) => r.ebpf)).toFixed(2)} per eBPF instruction)`);

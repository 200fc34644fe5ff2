/**
 * The data of `offload run --report`: what the replay summary, the card's timing and
 * meter, and the program's listing and line table say, as the report renderer
 * (nic-sim/report/html.ts) takes them.
 */
import type { CardProfile } from '../../caps/profile.js';
import { hotSpots } from '../../nic-sim/report/hotspots.js';
import type { ReportData } from '../../nic-sim/report/html.js';
import type { Bar } from '../../nic-sim/report/svg.js';
import { scaling, type CardFigures } from '../../nic-sim/timing/capacity.js';
import type { HostFigures } from '../../nic-sim/timing/host-model.js';
import type { HostModel } from '../../nic-sim/timing/host-model.js';
import type { MapDef, Program } from '../../xdp/object/bpf-object.js';
import { describeInsn } from '../../xdp/object/program-listing.js';
import { realLine } from '../rules/decide.js';
import type { ReplaySummary } from '../../xdp/replay/replay.js';
import type { CardRun } from './run-card.js';
import { usText } from './run-card.js';

/** Engine and thread counts the what-if chart shows (up to the card's own). */
function steps(max: number, from: readonly number[]): number[] {
  return [...new Set([...from.filter((n) => n < max), max])].sort((a, b) => a - b);
}

function outcomes(summary: ReplaySummary): Bar[] {
  return [
    ...Object.entries(summary.actions).filter(([a, n]) => n > 0 || a !== 'XDP_REDIRECT').map(([label, value]) => ({ label, value })),
    ...Object.entries(summary.dropped).map(([r, value]) => ({ label: r, value })),
    ...(summary.skipped > 0 ? [{ label: 'skipped', value: summary.skipped }] : []),
  ];
}

export function cardReport(run: CardRun, f: CardFigures, summary: ReplaySummary, profile: CardProfile, program: Program, maps: readonly MapDef[], title: string): ReportData {
  const t = run.engine.timing;
  const engines = t.engineCount;
  const threads = profile.timing.threadsPerCore;
  const u = f.engineUtilisation;
  const mean = u.length ? u.reduce((a, b) => a + b, 0) / u.length : 0;
  return {
    title,
    where: `on the card ${profile.name}: ${engines} engines × ${threads} threads at ${profile.timing.clockKHz / 1000} MHz, offered ${t.load.kind === 'link' ? `at ${t.load.mbps / 1000} Gb/s` : `${t.load.mpps} Mpps`}`,
    summary: [
      ['packets', `${summary.packets} read: ${t.taken} run, ${t.overflow} dropped for a full ingress queue, ${summary.skipped} skipped`],
      ['sustainable', `${f.sustained.mpps} Mpps (bottleneck: ${f.sustained.bottleneck})`],
      ['64-byte frames', `${f.sustained64.mpps} Mpps (bottleneck: ${f.sustained64.bottleneck})`],
      ['at the offered load', `offered ${f.offeredMpps} Mpps, taken ${f.achievedMpps} Mpps`],
      ['latency', `p50 ${usText(f.latencyNs.p50)}, p99 ${usText(f.latencyNs.p99)}, max ${usText(f.latencyNs.max)}`],
      ['cycles per packet', `mean ${f.cyclesPerPacket.mean}, p99 ${f.cyclesPerPacket.p99}`],
    ],
    outcomes: outcomes(summary),
    latency: { buckets: t.latencyNs.buckets(), p50: f.latencyNs.p50, p99: f.latencyNs.p99, max: f.latencyNs.max },
    scaling: scaling(t, f, steps(engines, [1, 2, 4, 8, 16, 30, 45]), steps(threads, [1, 2, 4])),
    resources: f.sustained.resources,
    utilisation: [
      { label: 'engines (mean)', value: mean, note: '' },
      { label: 'busiest engine', value: Math.max(0, ...u) },
      ...Object.entries(f.memoryUtilisation).map(([m, value]) => ({ label: `memory ${m}`, value })),
      ...Object.entries(f.lockUtilisation).map(([m, value]) => ({ label: `lock ${m}`, value })),
      { label: 'link', value: f.linkUtilisation },
    ],
    hotSpots: hotSpots(run.engine.meter.pcCycles, run.engine.meter.pcSleep, run.engine.image.source, {
      texts: program.insns.map((_, i) => describeInsn(program, i, maps)),
      lineOf: (i) => realLine(program, i),
    }, t.taken),
  };
}

export function hostReport(model: HostModel, f: HostFigures, summary: ReplaySummary, profile: CardProfile, reasons: string, title: string): ReportData {
  const shift = f.nsPerPacket;
  return {
    title,
    where: `on the host CPU: not offloadable on ${profile.name}: ${reasons}`,
    summary: [
      ['packets', `${summary.packets} read, ${summary.skipped} skipped`],
      ['sustainable on one host core', `${f.sustained.mpps} Mpps (bottleneck: ${f.sustained.bottleneck})`],
      ['run time', `${f.nsPerPacket} ns per packet, measured on this machine`],
      ['latency', `p50 ${usText(f.latencyNs.p50)}, p99 ${usText(f.latencyNs.p99)}, max ${usText(f.latencyNs.max)}`],
    ],
    outcomes: outcomes(summary),
    latency: { buckets: model.pcieNs.buckets().map((b) => ({ lo: b.lo + shift, hi: b.hi + shift, n: b.n })), p50: f.latencyNs.p50, p99: f.latencyNs.p99, max: f.latencyNs.max },
    resources: f.sustained.resources,
    utilisation: [],
    notes: {
      scaling: 'The program runs on the host CPU: the card\'s engines and threads do not apply.',
      hotSpots: 'Hot spots are counted on the card only.',
      utilisation: 'The card\'s engines and memories are not used on the host path.',
    },
  };
}

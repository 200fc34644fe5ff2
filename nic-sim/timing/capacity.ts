/**
 * The figures of a card replay (card-timing.ts): what the card sustains and what
 * limits it, and what happened at the load offered.
 *
 * Sustainable throughput is the least of each resource's capacity for this traffic:
 * - the engines: the saturated engine's rate (its threads hiding what latency they can)
 *   times the number of engines — named `threads` when the threads, not the engine's
 *   compute, set that rate (the engine idles below 95 % of its compute bound);
 * - each memory: one command every serviceCycles, over the commands a packet sends it;
 * - each map's lock: the cycles a packet holds it;
 * - DMA between MAC and packet memory, at bytesPerCycle, over the bytes a packet moves;
 * - PCIe to the host, over the bits of the packets passed up;
 * - the link, over the wire bits of a frame.
 * The 64-byte figure is the same work with every frame 64 bytes on the wire.
 * Utilisations are at the offered load: busy time over the replay's span.
 */
import type { CardTiming } from './card-timing.js';
import { EngineSim } from './engine.js';
import { MIN_FRAME_CAPTURED, wireBits } from './wire.js';

export type ResourceKind = 'engines' | 'threads' | 'memory' | 'lock' | 'dma' | 'pcie' | 'link' | 'host-cpu';

export interface Resource {
  readonly kind: ResourceKind;
  /** `engines`, `memory emem`, `lock flow_table`, … */
  readonly name: string;
  /** Packets per second this resource alone allows, in millions (Infinity: never a limit here). */
  readonly mpps: number;
}

export interface Throughput {
  readonly mpps: number;
  readonly bottleneck: string;
  /** Every resource, the tightest first. */
  readonly resources: readonly Resource[];
}

export interface CardFigures {
  /** What the card sustains for the capture's own sizes, and for 64-byte frames. */
  readonly sustained: Throughput;
  readonly sustained64: Throughput;
  /** At the load offered, over the arrivals' span: packets per second offered, and taken in (the rest overflowed). */
  readonly achievedMpps: number;
  readonly offeredMpps: number;
  readonly spanNs: number;
  readonly latencyNs: { readonly p50: number; readonly p99: number; readonly max: number; readonly mean: number };
  readonly cyclesPerPacket: { readonly mean: number; readonly p99: number };
  /** Busy fraction of each engine, of each memory's command queue, of each map's lock, of the link. */
  readonly engineUtilisation: readonly number[];
  readonly memoryUtilisation: Readonly<Record<string, number>>;
  readonly lockUtilisation: Readonly<Record<string, number>>;
  readonly linkUtilisation: number;
}

const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

function throughput(resources: Resource[]): Throughput {
  const sorted = [...resources].sort((a, b) => a.mpps - b.mpps);
  const first = sorted[0]!;
  return { mpps: round(first.mpps), bottleneck: first.name, resources: sorted.map((r) => ({ ...r, mpps: round(r.mpps) })) };
}

export function cardFigures(ct: CardTiming, mapNames: readonly string[]): CardFigures {
  const t = ct.timing;
  const hz = ct.clockHz;
  const n = Math.max(ct.taken, 1);
  const per = (total: number) => total / n;
  const cap = (perSecond: number, demand: number) => (demand > 0 ? perSecond / demand / 1e6 : Infinity);

  const sat = ct.saturated;
  const perEngine = sat.lastEnd(0) > 0 ? (sat.completed(0) / sat.lastEnd(0)) * hz : Infinity;
  const computeBound = ct.cyclesPerPacket.mean > 0 ? hz / ct.cyclesPerPacket.mean : Infinity;
  const engineKind: ResourceKind = perEngine < 0.95 * computeBound ? 'threads' : 'engines';
  const shared: Resource[] = [
    { kind: engineKind, name: engineKind, mpps: (perEngine * ct.engineCount) / 1e6 },
    ...t.memories.map((m, i) => ({ kind: 'memory' as const, name: `memory ${m.name}`, mpps: cap(hz / m.serviceCycles, per(ct.commands[i]!)) })),
    ...mapNames.map((name, j) => ({ kind: 'lock' as const, name: `lock ${name}`, mpps: cap(hz, per(ct.lockCycles[j]!)) })),
  ];
  const dmaRate = t.dma.bytesPerCycle * hz;
  const pcieRate = t.pcie.mbps * 1e6;
  const linkRate = (ct.load.kind === 'link' ? ct.load.mbps : t.linkMbps) * 1e6;
  const wireOut = ct.egress.wire / n;
  const hostOut = ct.egress.host / n;
  const mix = [
    ...shared,
    { kind: 'dma' as const, name: 'dma', mpps: cap(dmaRate, per(ct.dmaBytes)) },
    { kind: 'pcie' as const, name: 'pcie', mpps: cap(pcieRate, per(ct.pcieBits)) },
    { kind: 'link' as const, name: 'link', mpps: cap(linkRate, ct.wireBitsIn / Math.max(ct.offered, 1)) },
  ];
  const small = MIN_FRAME_CAPTURED;
  const min64 = [
    ...shared,
    { kind: 'dma' as const, name: 'dma', mpps: cap(dmaRate, small * (1 + wireOut)) },
    { kind: 'pcie' as const, name: 'pcie', mpps: cap(pcieRate, 8 * small * hostOut) },
    { kind: 'link' as const, name: 'link', mpps: cap(linkRate, wireBits(small)) },
  ];

  // From cycle 0 (the first frame starts arriving) to the last packet's leaving, or the last arrival.
  const spanCycles = Math.max(ct.lastEnd, ct.lastArrival, 1);
  const spanS = spanCycles / hz;
  const lat = ct.latencyNs;
  return {
    sustained: throughput(ct.taken > 0 ? mix : mix.map((r) => ({ ...r, mpps: Infinity }))),
    sustained64: throughput(ct.taken > 0 ? min64 : min64.map((r) => ({ ...r, mpps: Infinity }))),
    achievedMpps: round(ct.lastArrival > 0 ? ct.taken / (ct.lastArrival / hz) / 1e6 : 0),
    offeredMpps: round(ct.lastArrival > 0 ? ct.offered / (ct.lastArrival / hz) / 1e6 : 0),
    spanNs: round(spanS * 1e9, 1),
    latencyNs: { p50: round(lat.percentile(50), 1), p99: round(lat.percentile(99), 1), max: round(lat.max, 1), mean: round(lat.mean, 1) },
    cyclesPerPacket: { mean: round(ct.cyclesPerPacket.mean, 1), p99: round(ct.cyclesPerPacket.percentile(99), 1) },
    engineUtilisation: Array.from({ length: ct.engineCount }, (_, e) => round(ct.engines.busy(e) / spanCycles, 4)),
    memoryUtilisation: Object.fromEntries(t.memories.map((m, i) => [m.name, round((ct.commands[i]! * m.serviceCycles) / spanCycles, 4)])),
    lockUtilisation: Object.fromEntries(mapNames.map((name, j) => [name, round(ct.lockCycles[j]! / spanCycles, 4)])),
    linkUtilisation: round(ct.wireBitsIn / (linkRate * spanS), 4),
  };
}

/** Packets per second one engine of `threads` threads sustains on the sampled work, kept saturated. */
export function engineRate(sample: readonly (readonly number[])[], threads: number, clockHz: number): number {
  if (sample.length === 0) return Infinity;
  const e = new EngineSim(0, threads, 0, () => {});
  // At least 2,000 packets, so that filling and draining the threads are a small part of the run.
  const n = Math.max(sample.length, 2000);
  for (let i = 0; i < n; i++) e.pushSaturated(sample[i % sample.length]!);
  e.finish();
  return (e.completed / e.lastEnd) * clockHz;
}

export interface Scaling {
  readonly engines: readonly number[];
  /** For each thread count, the sustainable Mpps at each engine count (the shared resources' limits included). */
  readonly series: readonly { readonly threads: number; readonly mpps: readonly number[] }[];
}

/**
 * What-if: sustainable throughput against the number of engines and of threads per
 * engine, the card's other resources (memories, locks, DMA, PCIe, link) as they are.
 */
export function scaling(ct: CardTiming, figures: CardFigures, engines: readonly number[], threads: readonly number[]): Scaling {
  const others = figures.sustained.resources.filter((r) => r.kind !== 'engines' && r.kind !== 'threads').reduce((m, r) => Math.min(m, r.mpps), Infinity);
  return {
    engines,
    series: threads.map((t) => {
      const perEngine = engineRate(ct.sample, t, ct.clockHz) / 1e6;
      return { threads: t, mpps: engines.map((e) => round(Math.min(e * perEngine, others))) };
    }),
  };
}

/**
 * The card's timing model over a whole replay: packets arrive at the offered load (the
 * link rate, each frame taking its wire time, or a fixed packet rate), are spread over
 * the engines by RSS (nic-sim/rss/, one queue per engine), are moved into packet memory
 * by DMA, wait for a thread of their engine (engine.ts: threads, latency hiding, the
 * ingress queue and its overflow), and leave by DMA to the wire (XDP_TX) or over PCIe
 * to the host (XDP_PASS). It keeps what a summary needs in fixed memory: latency and
 * cycles-per-packet histograms, commands per memory, lock time per map (the meter adds
 * these up, packet-meter.ts), and one engine kept saturated with a systematic sample of
 * the packets' work, whose rate is the engine's capacity. A frame the MAC drops for a
 * packet longer than the MTU is counted here too (`oversize`).
 *
 * Engines share nothing in this model but the memories and map locks, which are
 * priced by demand (capacity.ts): each engine can be simulated on its own.
 */
import type { TimingModel } from '../../caps/profile.js';
import { RSS_VERIFICATION_KEY } from '../rss/toeplitz.js';
import { RssSpreader } from '../rss/spread.js';
import type { CycleTable } from './cycle-table.js';
import { EngineBank } from './engine.js';
import { Histogram, type HistogramState } from './histogram.js';
import type { WorkSegments } from './packet-meter.js';
import { wireBits } from './wire.js';

/** Packets whose work is kept for what-if runs (fixed memory whatever the capture's size). */
export const SAMPLE_JOBS = 4096;
/**
 * The saturated engine (the engines' capacity) runs every packet of the first
 * SATURATED_ALL, then every SATURATED_STRIDE-th: a systematic sample across the whole
 * capture, at a sixteenth of the cost per packet beyond its start.
 */
export const SATURATED_ALL = 65536;
export const SATURATED_STRIDE = 16;

/** How fast packets are offered: at a link's rate (each frame its wire time) or at a packet rate. */
export type OfferedLoad = { readonly kind: 'link'; readonly mbps: number } | { readonly kind: 'rate'; readonly mpps: number };

export interface CardTimingOptions {
  readonly load?: OfferedLoad;
  /** Engines and threads per engine (default the profile's): what-if runs. */
  readonly engines?: number;
  readonly threads?: number;
  /** RSS key (default the Microsoft verification key, docs/calibration.md). */
  readonly rssKey?: Uint8Array;
  /** Keep each packet's timing until `take` asks for it (a trace); otherwise only the totals are kept. */
  readonly perPacket?: boolean;
  /** The interface's MTU: frames carrying a longer packet are dropped by the MAC (wire.ts overMtu); none by default. */
  readonly mtu?: number;
}

/** Where a packet leaves the card, for its egress cost. */
export type Egress = 'wire' | 'host' | 'none';

/** What the trace says of a packet's time on the card. */
export interface PacketTiming {
  readonly engine: number;
  readonly thread: number;
  /** Engine cycles of its work (the firmware's included) and cycles its thread slept on memory. */
  readonly cycles: number;
  readonly sleep: number;
  /** From its last bit's arrival to its leaving the card (or being dropped), ns. */
  readonly latencyNs: number;
  /** Cycles it waited for a thread after reaching packet memory. */
  readonly queued: number;
}

/** What the engine side of a replay adds up (card-timing's totals; plain data). */
export interface EngineTotals {
  readonly busy: readonly number[];
  readonly latencyNs: HistogramState;
  readonly commands: readonly number[];
  readonly lockCycles: readonly number[];
  readonly dmaBytes: number;
  readonly pcieBits: number;
  readonly taken: number;
  readonly overflow: number;
  readonly egress: Readonly<Record<Egress, number>>;
  readonly lastEnd: number;
}

export class CardTiming {
  readonly clockHz: number;
  /** The card's engines (`engineCount` of them). */
  readonly engines: EngineBank;
  readonly engineCount: number;
  /** One engine given every packet's work back to back. */
  readonly saturated: EngineBank;
  readonly latencyNs = new Histogram();
  readonly cyclesPerPacket = new Histogram();
  readonly load: OfferedLoad;
  /** Totals over the packets taken: commands per memory, lock cycles per map, bytes moved. */
  readonly commands: Float64Array;
  readonly lockCycles: Float64Array;
  dmaBytes = 0;
  pcieBits = 0;
  wireBitsIn = 0;
  /** Packets offered, taken, and dropped for a full ingress queue; packets whose work was observed. */
  offered = 0;
  observed = 0;
  taken = 0;
  overflow = 0;
  /** Frames longer than the packet split: the bytes past it are kept outside packet memory (the program cannot reach them). */
  beyondSplit = 0;
  /** Frames the MAC dropped for a packet longer than the MTU (`mtu`, undefined: no limit). */
  oversize = 0;
  readonly mtu: number | undefined;
  /** Taken packets by where they left. */
  readonly egress: Record<Egress, number> = { wire: 0, host: 0, none: 0 };
  lastEnd = 0;
  /** The work of the first SAMPLE_JOBS packets taken: what what-if runs (other thread counts) replay. */
  readonly sample: number[][] = [];
  private clock = 0;
  private readonly rss: RssSpreader;
  private readonly done = new Map<number, PacketTiming>();
  private readonly cyclesPerByte: number;
  private readonly perPacket: boolean;

  /**
   * `totals`: where the commands per memory and lock cycles per map are added up, when the
   * meter adds them up itself (packet-meter.ts); fresh arrays otherwise (only `absorb` adds).
   */
  constructor(readonly timing: TimingModel, readonly table: CycleTable, mapCount: number, opts: CardTimingOptions = {}, totals?: { readonly commands: Float64Array; readonly locks: Float64Array }) {
    this.clockHz = table.clockHz;
    const engines = opts.engines ?? timing.cores;
    const threads = opts.threads ?? timing.threadsPerCore;
    this.load = opts.load ?? { kind: 'link', mbps: timing.linkMbps };
    this.engineCount = engines;
    this.engines = new EngineBank(engines, threads, timing.ingressQueue, (e, slot, thread, start, end) => this.completed(e, slot, thread, start, end));
    this.saturated = new EngineBank(1, threads, 0, () => {});
    this.rss = new RssSpreader(opts.rssKey ?? RSS_VERIFICATION_KEY, engines);
    this.commands = totals?.commands ?? new Float64Array(table.memories.length);
    this.lockCycles = totals?.locks ?? new Float64Array(mapCount);
    this.cyclesPerByte = 1 / timing.dma.bytesPerCycle;
    this.perPacket = opts.perPacket ?? false;
    this.mtu = opts.mtu;
  }

  /** Cycle the last packet offered arrived. */
  get lastArrival(): number {
    return this.clock;
  }

  /** The next packet's arrival: its engine (by RSS); the cycle its last bit is in is `lastArrival`. */
  arrive(frame: Uint8Array, wireLen: number): number {
    const bits = wireBits(wireLen);
    this.clock += this.load.kind === 'link' ? (bits / (this.load.mbps * 1e6)) * this.clockHz : this.clockHz / (this.load.mpps * 1e6);
    this.wireBitsIn += bits;
    this.offered++;
    return this.rss.queueOf(frame);
  }

  /** Whether the engine takes a packet arriving at t; a packet it does not take is an ingress_overflow drop. */
  admit(engine: number, t: number): boolean {
    const ok = this.engines.admit(engine, t);
    if (!ok) this.overflow++;
    return ok;
  }

  /** DMA cycles of `bytes`. */
  private dmaCycles(bytes: number): number {
    return this.timing.dma.cycles + bytes * this.cyclesPerByte;
  }

  /** Cycles a frame of `bytes` takes to reach the host over PCIe (its latency and its bits at the link's rate). */
  private pcieCycles(bytes: number): number {
    const p = this.timing.pcie;
    return ((p.latencyNs + (8 * bytes * 1000) / p.mbps) * this.clockHz) / 1e9;
  }

  /**
   * What the capacity estimate keeps of a taken packet's work, `segs[0 … n)` (fed in
   * packet order): its compute in the cycles-per-packet histogram, and, for a systematic
   * sample (every packet of the first SATURATED_ALL, then every SATURATED_STRIDE-th), its
   * segments to the saturated engine.
   */
  observe(segs: WorkSegments, n: number, compute: number): void {
    const k = this.observed++;
    if (this.sample.length < SAMPLE_JOBS) this.sample.push(Array.from({ length: n }, (_, i) => segs[i]!));
    if (k < SATURATED_ALL || k % SATURATED_STRIDE === 0) this.saturated.pushSaturated(0, segs, n);
    this.cyclesPerPacket.add(compute);
  }

  /**
   * A taken packet's work — segments `segs[0 … n)` (packet-meter.ts), its compute and
   * sleep cycles — given to its engine, and how it leaves (`outBytes` long). The
   * capacity estimate is fed apart (`observe`), in packet order, by whoever holds the
   * whole capture; commands and lock time are added up by the meter.
   */
  toEngine(engine: number, id: number, t: number, inBytes: number, segs: WorkSegments, n: number, compute: number, sleep: number, egress: Egress, outBytes: number): void {
    this.taken++;
    this.dmaBytes += inBytes + (egress === 'wire' ? outBytes : 0);
    if (egress === 'host') this.pcieBits += 8 * outBytes;
    if (egress === 'wire') this.egress.wire++;
    else if (egress === 'host') this.egress.host++;
    else this.egress.none++;
    const out = egress === 'wire' ? this.dmaCycles(outBytes) : egress === 'host' ? this.dmaCycles(outBytes) + this.pcieCycles(outBytes) : 0;
    this.engines.push(engine, id, t, t + this.dmaCycles(inBytes), compute, sleep, out, segs, n);
  }

  /** The engine side's totals, as plain data (a worker thread's share of the replay). */
  totals(): EngineTotals {
    return {
      busy: Array.from({ length: this.engineCount }, (_, e) => this.engines.busy(e)), latencyNs: this.latencyNs.state(), commands: [...this.commands], lockCycles: [...this.lockCycles],
      dmaBytes: this.dmaBytes, pcieBits: this.pcieBits, taken: this.taken, overflow: this.overflow, egress: { ...this.egress }, lastEnd: this.lastEnd,
    };
  }

  /** Another engine side's totals added to this one's (engines it ran were idle here). */
  absorb(t: EngineTotals): void {
    t.busy.forEach((b, e) => this.engines.addBusy(e, b));
    this.latencyNs.merge(t.latencyNs);
    t.commands.forEach((c, m) => (this.commands[m]! += c));
    t.lockCycles.forEach((c, j) => (this.lockCycles[j]! += c));
    this.dmaBytes += t.dmaBytes;
    this.pcieBits += t.pcieBits;
    this.taken += t.taken;
    this.overflow += t.overflow;
    for (const k of Object.keys(this.egress) as Egress[]) this.egress[k] += t.egress[k];
    this.lastEnd = Math.max(this.lastEnd, t.lastEnd);
  }

  /** The timing of packet `id` once it has left the card (taken once: the map forgets it). */
  take(id: number): PacketTiming | undefined {
    const t = this.done.get(id);
    if (t !== undefined) this.done.delete(id);
    return t;
  }

  /** Every packet timing kept and not yet taken, forgotten (a worker thread hands them on). */
  drainDone(): [number, PacketTiming][] {
    const out = [...this.done];
    this.done.clear();
    return out;
  }

  /** The capture has ended: every engine runs to its end. */
  finish(): void {
    this.engines.finish();
    this.saturated.finish();
  }

  private completed(engine: number, slot: number, thread: number, start: number, end: number): void {
    const b = this.engines;
    const leave = end + b.egress(slot);
    if (leave > this.lastEnd) this.lastEnd = leave;
    const latencyNs = ((leave - b.arrival(slot)) * 1e9) / this.clockHz;
    this.latencyNs.add(latencyNs);
    if (this.perPacket) this.done.set(b.id(slot), {
      engine, thread, cycles: b.compute(slot), sleep: b.sleep(slot),
      latencyNs, queued: start - b.ready(slot),
    });
  }
}

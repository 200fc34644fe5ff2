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
 * packet longer than the MTU is counted here too (`oversize`). What a packet costs once it
 * is taken — its engine, its DMA and egress, its latency, the capacity sample — runs in
 * the timing core (WebAssembly, timing-core.ts); arrivals, RSS and what-if samples stay
 * here.
 *
 * Engines share nothing in this model but the memories and map locks, which are
 * priced by demand (capacity.ts): each engine can be simulated on its own.
 */
import type { TimingModel } from '../../caps/profile.js';
import { RSS_VERIFICATION_KEY } from '../rss/toeplitz.js';
import { RssSpreader } from '../rss/spread.js';
import type { CycleTable } from './cycle-table.js';
import { EngineBank, checkBankSize } from './engine.js';
import { HISTOGRAM_CELLS, Histogram, type HistogramState } from './histogram.js';
import { TimingCore, type TimingCoreExports } from './timing-core.js';
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

/**
 * The arrival tallies' order: the cycle the last packet arrived, packets offered, wire
 * bits in, ingress overflows, MTU drops, frames beyond the packet split
 * (nic-sim/replay/assembly/packet-path.ts numbers them the same).
 */
export const TALLY = { clock: 0, offered: 1, wireBits: 2, overflow: 3, oversize: 4, beyondSplit: 5 } as const;
export const TALLY_FIELDS = 6;

/** Egress codes as the timing core takes them. */
const EGRESS_CODE: Readonly<Record<Egress, number>> = { wire: 0, host: 1, none: 2 };
/** The timing core's totals (cardTotal's numbering). */
const TOTAL_TAKEN = 0;
const TOTAL_OBSERVED = 1;
const TOTAL_DMA_BYTES = 2;
const TOTAL_PCIE_BITS = 3;
const TOTAL_LAST_END = 4;
const TOTAL_WIRE = 5;
const TOTAL_HOST = 6;
const TOTAL_NONE = 7;

export class CardTiming {
  readonly clockHz: number;
  /** The card's engines (`engineCount` of them). */
  readonly engines: EngineBank;
  readonly engineCount: number;
  /** One engine given every packet's work back to back. */
  readonly saturated: EngineBank;
  readonly latencyNs: Histogram;
  readonly cyclesPerPacket: Histogram;
  readonly load: OfferedLoad;
  /** Totals over the packets taken: commands per memory, lock cycles per map. */
  readonly commands: Float64Array;
  readonly lockCycles: Float64Array;
  readonly mtu: number | undefined;
  /** The work of the first SAMPLE_JOBS packets taken: what what-if runs (other thread counts) replay. */
  readonly sample: number[][] = [];
  /** The arrival tallies (TALLY), kept where the packet path adds to them too when there is one. */
  private readonly tally: Float64Array;
  private readonly rss: RssSpreader;
  private readonly done = new Map<number, PacketTiming>();
  /** The engines, the saturated engine, the histograms and the per-packet totals, run as WebAssembly (timing-core.ts). */
  private readonly core: TimingCore;

  /**
   * `totals`: where the commands per memory and lock cycles per map are added up, when the
   * meter adds them up itself (packet-meter.ts); fresh arrays otherwise (only `absorb` adds).
   */
  constructor(readonly timing: TimingModel, readonly table: CycleTable, mapCount: number, opts: CardTimingOptions = {}, totals?: { readonly commands: Float64Array; readonly locks: Float64Array }, tally?: Float64Array) {
    if (tally !== undefined && tally.length < TALLY_FIELDS) throw new RangeError(`the arrival tallies need ${TALLY_FIELDS} numbers, not ${tally.length}`);
    this.tally = tally ?? new Float64Array(TALLY_FIELDS);
    this.clockHz = table.clockHz;
    const engines = opts.engines ?? timing.cores;
    const threads = opts.threads ?? timing.threadsPerCore;
    this.load = opts.load ?? { kind: 'link', mbps: timing.linkMbps };
    this.engineCount = engines;
    checkBankSize(engines, threads, timing.ingressQueue);
    const core = (this.core = new TimingCore({
      traced: (id, engine, thread, cycles, sleep, latencyNs, queued) => this.done.set(id, { engine, thread, cycles, sleep, latencyNs, queued }),
      sparse: (hist, bucket) => (hist === core.x.latencyHistogram() ? this.latencyNs : this.cyclesPerPacket).countSparse(bucket),
    }));
    core.x.cardInit(engines, threads, timing.ingressQueue, this.clockHz, opts.perPacket ? 1 : 0, timing.dma.cycles, timing.dma.bytesPerCycle,
      timing.pcie.latencyNs, timing.pcie.mbps, SATURATED_ALL, SATURATED_STRIDE);
    const none = () => {};
    this.engines = new EngineBank(engines, threads, timing.ingressQueue, none, { core, bank: core.x.cardBank() });
    this.saturated = new EngineBank(1, threads, 0, none, { core, bank: core.x.saturatedBank() });
    this.latencyNs = new Histogram(() => core.f64s(core.x.latencyHistogram(), HISTOGRAM_CELLS));
    this.cyclesPerPacket = new Histogram(() => core.f64s(core.x.cyclesHistogram(), HISTOGRAM_CELLS));
    this.rss = new RssSpreader(opts.rssKey ?? RSS_VERIFICATION_KEY, engines);
    this.commands = totals?.commands ?? new Float64Array(table.memories.length);
    this.lockCycles = totals?.locks ?? new Float64Array(mapCount);
    this.mtu = opts.mtu;
  }

  /** Cycle the last packet offered arrived. */
  get lastArrival(): number {
    return this.tally[TALLY.clock]!;
  }

  /** Bits the frames offered took on the link. */
  get wireBitsIn(): number {
    return this.tally[TALLY.wireBits]!;
  }

  /** Packets offered, and dropped for a full ingress queue. */
  get offered(): number {
    return this.tally[TALLY.offered]!;
  }

  get overflow(): number {
    return this.tally[TALLY.overflow]!;
  }

  set overflow(n: number) {
    this.tally[TALLY.overflow] = n;
  }

  /** Frames the MAC dropped for a packet longer than the MTU (`mtu`, undefined: no limit). */
  get oversize(): number {
    return this.tally[TALLY.oversize]!;
  }

  set oversize(n: number) {
    this.tally[TALLY.oversize] = n;
  }

  /** Frames longer than the packet split: the bytes past it are kept outside packet memory (the program cannot reach them). */
  get beyondSplit(): number {
    return this.tally[TALLY.beyondSplit]!;
  }

  set beyondSplit(n: number) {
    this.tally[TALLY.beyondSplit] = n;
  }

  /** Packets taken, and those whose work was observed. */
  get taken(): number {
    return this.core.x.cardTotal(TOTAL_TAKEN);
  }

  get observed(): number {
    return this.core.x.cardTotal(TOTAL_OBSERVED);
  }

  /** Bytes moved by DMA and bits sent over PCIe, for the packets taken. */
  get dmaBytes(): number {
    return this.core.x.cardTotal(TOTAL_DMA_BYTES);
  }

  get pcieBits(): number {
    return this.core.x.cardTotal(TOTAL_PCIE_BITS);
  }

  /** Cycle the last packet left the card. */
  get lastEnd(): number {
    return this.core.x.cardTotal(TOTAL_LAST_END);
  }

  /** Taken packets by where they left. */
  get egress(): Readonly<Record<Egress, number>> {
    const x = this.core.x;
    return { wire: x.cardTotal(TOTAL_WIRE), host: x.cardTotal(TOTAL_HOST), none: x.cardTotal(TOTAL_NONE) };
  }

  /** The next packet's arrival: its engine (by RSS); the cycle its last bit is in is `lastArrival`. */
  arrive(frame: Uint8Array, wireLen: number): number {
    const bits = wireBits(wireLen);
    const t = this.tally;
    t[TALLY.clock] = t[TALLY.clock]! + (this.load.kind === 'link' ? (bits / (this.load.mbps * 1e6)) * this.clockHz : this.clockHz / (this.load.mpps * 1e6));
    t[TALLY.wireBits] = t[TALLY.wireBits]! + bits;
    t[TALLY.offered] = t[TALLY.offered]! + 1;
    return this.rss.queueOf(frame);
  }

  /** The RSS tables (packet-path.ts runs the same spreading). */
  rssTables(): ReturnType<RssSpreader['tables']> {
    return this.rss.tables();
  }

  /** The timing core's calls the packet path makes itself. */
  pathImports(): Pick<TimingCoreExports, 'cardAdmit' | 'inputSegment' | 'cardToEngine'> {
    const x = this.core.x;
    return { cardAdmit: x.cardAdmit, inputSegment: x.inputSegment, cardToEngine: x.cardToEngine };
  }

  /** A taken packet's segments kept for what-if runs, while the sample still wants them (fed in packet order). */
  keepSample(segs: WorkSegments, n: number): void {
    if (this.sample.length < SAMPLE_JOBS) this.sample.push(Array.from({ length: n }, (_, i) => segs[i]!));
  }

  /** Whether the engine takes a packet arriving at t; a packet it does not take is an ingress_overflow drop. */
  admit(engine: number, t: number): boolean {
    const ok = this.core.x.cardAdmit(engine, t) !== 0;
    if (!ok) this.overflow++;
    return ok;
  }

  /**
   * What the capacity estimate keeps of a taken packet's work, `segs[0 … n)` (fed in
   * packet order): its compute in the cycles-per-packet histogram, and, for a systematic
   * sample (every packet of the first SATURATED_ALL, then every SATURATED_STRIDE-th), its
   * segments to the saturated engine; the first SAMPLE_JOBS packets' segments are kept.
   */
  observe(segs: WorkSegments, n: number, compute: number): void {
    this.keepSample(segs, n);
    this.core.writeSegments(segs, n);
    this.core.x.cardObserve(n, compute);
  }

  /**
   * A taken packet's work — segments `segs[0 … n)` (packet-meter.ts), its compute and
   * sleep cycles — given to its engine, and how it leaves (`outBytes` long): DMA in, DMA
   * out to the wire, or DMA and PCIe to the host. With `observe` the capacity estimate is
   * fed too, as `observe` feeds it; otherwise that is done apart, in packet order, by
   * whoever holds the whole capture. Commands and lock time are added up by the meter.
   */
  toEngine(engine: number, id: number, t: number, inBytes: number, segs: WorkSegments, n: number, compute: number, sleep: number, egress: Egress, outBytes: number, observe = false): void {
    if (observe) this.keepSample(segs, n);
    this.core.writeSegments(segs, n);
    if (this.core.x.cardToEngine(engine, id, t, inBytes, n, compute, sleep, EGRESS_CODE[egress], outBytes, observe ? 1 : 0) === 0) {
      throw new RangeError(`engine ${engine}: a packet given with every thread and queue place held (admit first)`);
    }
  }

  /** The engine side's totals, as plain data (a worker thread's share of the replay). */
  totals(): EngineTotals {
    return {
      busy: Array.from({ length: this.engineCount }, (_, e) => this.engines.busy(e)), latencyNs: this.latencyNs.state(), commands: [...this.commands], lockCycles: [...this.lockCycles],
      dmaBytes: this.dmaBytes, pcieBits: this.pcieBits, taken: this.taken, overflow: this.overflow, egress: this.egress, lastEnd: this.lastEnd,
    };
  }

  /** Another engine side's totals added to this one's (engines it ran were idle here). */
  absorb(t: EngineTotals): void {
    t.busy.forEach((b, e) => this.engines.addBusy(e, b));
    this.latencyNs.merge(t.latencyNs);
    t.commands.forEach((c, m) => (this.commands[m]! += c));
    t.lockCycles.forEach((c, j) => (this.lockCycles[j]! += c));
    this.overflow += t.overflow;
    this.core.x.cardAbsorb(t.taken, t.dmaBytes, t.pcieBits, t.lastEnd, t.egress.wire, t.egress.host, t.egress.none);
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
}

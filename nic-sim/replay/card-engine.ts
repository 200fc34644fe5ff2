/**
 * A card as the replay's packet engine (xdp/replay/replay.ts PacketEngine): each
 * captured frame arrives at the offered load, is taken by its RSS engine or dropped
 * for a full ingress queue (`ingress_overflow`), runs functionally on the card's image
 * (nic-sim/card/card.ts) under the timing meter, and is then timed by the engine model
 * (nic-sim/timing/). Packets run in arrival order, so maps change in the capture's
 * order whatever the engines' interleaving (docs/calibration.md, "What the model
 * leaves out"). The replay offers each frame whole (`offer`): through the packet path
 * (packet-path.ts), all of it in one WebAssembly call where the card's code runs as
 * WebAssembly, otherwise — and for what the path hands back — as `admit` then `run`,
 * with the same outcome.
 */
import type { CardProfile } from '../../caps/profile.js';
import type { CaptureRecord } from '../../xdp/pcap/capture-record.js';
import { XDP_ACTION_NAMES, XdpAction } from '../../xdp/runtime/helpers/xdp-helpers.js';
import type { PacketMeta, PacketResult } from '../../xdp/runtime/xdp-machine.js';
import type { PacketEngine } from '../../xdp/replay/replay.js';
import { NfpAction } from '../card/actions.js';
import { CARD_MAX_PACKET, Card, type TimedPacketResult } from '../card/card.js';
import type { CardImage } from '../image/index.js';
import type { CardMaps } from '../firmware/card-maps.js';
import { helpersByAddress } from '../firmware/routines.js';
import { CardTiming, SAMPLE_JOBS, type CardTimingOptions, type Egress, type PacketTiming } from '../timing/card-timing.js';
import { cycleTable } from '../timing/cycle-table.js';
import { overMtu } from '../timing/wire.js';
import { PacketMeter } from '../timing/packet-meter.js';
import { PATH_CODE, PacketPath, pathTally } from './packet-path.js';

/** The XDP action each NFP action code stands for, and where the packet goes. */
const NFP_TO_XDP: Readonly<Record<number, { action: number; egress: Egress }>> = {
  [NfpAction.DROP]: { action: XdpAction.DROP, egress: 'none' },
  [NfpAction.PASS]: { action: XdpAction.PASS, egress: 'host' },
  [NfpAction.TX]: { action: XdpAction.TX, egress: 'wire' },
  [NfpAction.EXCEPTION_DROP]: { action: XdpAction.ABORTED, egress: 'none' },
};

/** The timing meter of a card running `image`; `maps` gives the card's maps once it exists. */
export function cardMeter(image: CardImage, profile: CardProfile, maps: () => CardMaps): PacketMeter {
  return new PacketMeter(cycleTable(profile.timing), profile.timing, image.code.length, helpersByAddress(profile.helpers), {
    count: image.maps.length,
    mapOfTable: (id) => {
      const m = maps();
      const index = m.mapIndexOfTable(id);
      return index === undefined ? undefined : { index, type: m.defs[index]!.type };
    },
  });
}

/** A packet's timing as its trace line shows it. */
export function timingFields(t: PacketTiming): Record<string, number> {
  return { engine: t.engine, thread: t.thread, cycles: t.cycles, sleep_cycles: t.sleep, queued_cycles: Math.round(t.queued * 10) / 10, latency_ns: Math.round(t.latencyNs * 10) / 10 };
}

/** A packet's result as the replay takes it: one per engine, refilled for every packet, its bytes made when asked. */
export class ReusedResult implements PacketResult {
  action = 0;
  actionName: PacketResult['actionName'] = XDP_ACTION_NAMES[0]!;
  length = 0;
  error: string | undefined = undefined;
  private source: { bytes(): Uint8Array } | undefined;

  set(action: number, length: number, error: string | undefined, source: { bytes(): Uint8Array }): this {
    this.action = action;
    this.actionName = XDP_ACTION_NAMES[action]!;
    this.length = length;
    this.error = error;
    this.source = source;
    return this;
  }

  bytes(): Uint8Array {
    return this.source?.bytes() ?? new Uint8Array(0);
  }
}

export interface CardEngineOptions extends CardTimingOptions {
  /** The image file, for messages. */
  readonly file: string;
  /** bpf_get_prandom_u32's source. */
  readonly random?: () => number;
  /** How the card runs its code (card.ts CardOptions.executor): generated WebAssembly by default, generated JavaScript when asked. */
  readonly executor?: 'compiled' | 'wasm';
  /** Whether frames go through the packet path where the card has one (default true; false: `admit` then `run` in JavaScript, the same outcome). */
  readonly packetPath?: boolean;
  /** Card instructions one packet may run (card.ts CardOptions.stepLimit). */
  readonly stepLimit?: number;
}

export class CardEngine implements PacketEngine {
  readonly card: Card;
  readonly timing: CardTiming;
  readonly meter: PacketMeter;
  /** The packet `admit` took: its engine, arrival cycle and length on the wire (engine −1: none). */
  private arrival = { engine: -1, t: 0, origLen: 0 };
  private readonly result = new ReusedResult();
  /** The packet path, made at the first packet offered (null: none, card.ts `fusion`, or not wanted). */
  private path: PacketPath | null | undefined;

  constructor(readonly image: CardImage, readonly profile: CardProfile, opts: CardEngineOptions) {
    // The meter needs the card's maps and the card its meter: the maps are looked up when a call is priced.
    this.meter = cardMeter(image, profile, () => this.card.maps);
    // Results' bytes are views of packet memory: the replay writes each out before the next packet runs.
    this.card = new Card(image, profile, {
      file: opts.file, ...(opts.random ? { random: opts.random } : {}), ...(opts.stepLimit !== undefined ? { stepLimit: opts.stepLimit } : {}),
      timed: this.meter, viewBytes: true, executor: opts.executor ?? 'wasm',
    });
    if (opts.packetPath === false) this.path = null;
    // The arrival tallies lie in the card's memory, where the packet path adds to them too.
    this.timing = new CardTiming(profile.timing, this.meter.table, this.card.maps.length, opts, this.meter.work, pathTally(this.card.memory));
  }

  private linkPath(): PacketPath | null {
    return (this.path = PacketPath.link(this.card.fusion(), this.timing, this.profile) ?? null);
  }

  /**
   * A frame offered to the card, all the way: why it never ran (as `admit` says), or its
   * result once it ran and was given to its engine — through the packet path in one
   * WebAssembly call where the card has one, otherwise as `admit` then `run`.
   */
  offer(rec: CaptureRecord, index: number): PacketResult | string {
    const path = this.path === undefined ? this.linkPath() : this.path;
    if (path === null || rec.capLen > CARD_MAX_PACKET) return this.admit(rec) ?? this.run(rec.data, index);
    const f = path.fusion;
    f.begin();
    let code: number;
    try {
      code = path.packet(rec.data, rec.origLen, index);
    } catch (e) {
      // A call out of the card's code threw: the packet's work stands as it was then.
      return this.handOver(f.failed(e, rec.data), rec.data.length, index, path.engine(), this.timing.lastArrival, rec.origLen, true);
    }
    if (code >= 0) {
      if (this.timing.sample.length < SAMPLE_JOBS) this.timing.keepSample(path.segments, path.segmentCount);
      const r = f.ended();
      return this.result.set(code, r.length, undefined, r);
    }
    switch (code) {
      case PATH_CODE.OVERFLOW: return 'ingress_overflow';
      case PATH_CODE.OVERSIZE: return 'oversize';
      case PATH_CODE.NOT_TAKEN: throw new RangeError(`engine ${path.engine()}: a packet given with every thread and queue place held (admit first)`);
      default: {
        const r = f.finish(code === PATH_CODE.RESUME ? path.resumePc() : -1, rec.data);
        return this.handOver(r, rec.data.length, index, path.engine(), this.timing.lastArrival, rec.origLen, true);
      }
    }
  }

  /**
   * A frame's arrival as the card sees it: its engine (its cycle is `timing.lastArrival`),
   * or why it never reaches one — `oversize`, a packet longer than the MTU, which the MAC
   * drops, or one the packet buffer cannot hold (both still took their wire time).
   * Frames past the packet split are counted here.
   */
  arriveFrame(rec: CaptureRecord): number | string {
    const engine = this.timing.arrive(rec.data, rec.origLen);
    const mtu = this.timing.mtu;
    if (mtu !== undefined && overMtu(rec.data, rec.origLen, mtu)) {
      this.timing.oversize++;
      return 'oversize';
    }
    if (rec.capLen > CARD_MAX_PACKET) return `longer than the card's ${CARD_MAX_PACKET}-byte packet buffer`;
    if (rec.origLen > this.profile.packetSplitBytes) this.timing.beyondSplit++;
    return engine;
  }

  admit(rec: CaptureRecord): string | undefined {
    const engine = this.arriveFrame(rec);
    if (typeof engine === 'string') return engine;
    const t = this.timing.lastArrival;
    if (!this.timing.admit(engine, t)) return 'ingress_overflow';
    const held = this.arrival;
    held.engine = engine;
    held.t = t;
    held.origLen = rec.origLen;
    return undefined;
  }

  /** One packet; its result (and its bytes) are valid until the next packet runs. */
  run(packet: Uint8Array, index: number, _meta?: PacketMeta): PacketResult {
    const a = this.arrival;
    if (a.engine < 0) {
      // Not admitted first (a caller without arrivals): it arrives now.
      a.engine = this.timing.arrive(packet, packet.length);
      a.t = this.timing.lastArrival;
      a.origLen = packet.length;
    }
    const result = this.runArrived(packet, index, a, true);
    a.engine = -1;
    return result;
  }

  /**
   * A packet its engine has taken (arrived at cycle t): run on the card and given to the
   * engine. Its work stays in `meter.work`, and the result is valid, until the next
   * packet. The capacity estimate is fed too with `observe`; otherwise it is the caller's
   * to feed (`timing.observe`), in packet order.
   */
  runArrived(packet: Uint8Array, index: number, a: { readonly engine: number; readonly t: number; readonly origLen: number }, observe = false): PacketResult {
    this.meter.work.begin(this.profile.timing.datapath.rxCycles);
    return this.handOver(this.card.runTimed(packet), packet.length, index, a.engine, a.t, a.origLen, observe);
  }

  /** A packet of `capLen` captured bytes the card has run (its work in `meter.work`, begun): its work ended by its action, and given to its engine. */
  private handOver(r: TimedPacketResult, capLen: number, index: number, engine: number, t: number, origLen: number, observe: boolean): PacketResult {
    const dp = this.profile.timing.datapath;
    const w = this.meter.work;
    const { action, egress } = NFP_TO_XDP[r.action] ?? { action: XdpAction.ABORTED, egress: 'none' as const };
    w.end(action === XdpAction.TX ? dp.txCycles : action === XdpAction.PASS ? dp.passCycles : dp.dropCycles);
    // The frame's bytes past the capture's snap length are on the wire and moved too.
    const tail = origLen - capLen;
    this.timing.toEngine(engine, index, t, origLen, w.segs, w.n, w.compute, w.sleep, egress, r.length + Math.max(tail, 0), observe);
    return this.result.set(action, r.length, r.error, r);
  }

  traceFields(index: number): Record<string, unknown> | undefined {
    const t = this.timing.take(index);
    return t === undefined ? undefined : timingFields(t);
  }

  finish(): void {
    this.card.foldHotSpots();
    this.timing.finish();
  }
}

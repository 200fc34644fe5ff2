/**
 * The card's engines (NFP microengines) and their hardware threads, as the simulator
 * runs them: a thread runs a packet's work until the packet's next memory command, then
 * sleeps until the command's signal while another ready thread of the same engine runs
 * — the latency hiding that makes throughput grow with threads until the engine's
 * compute is the limit. Threads do not preempt each other (the NFP's threads swap only
 * on a command's `ctx_swap`); of the threads ready, the one ready longest runs first
 * (ties: the lower thread number). A packet that arrives while every thread has one
 * waits in the engine's ingress queue; when that is full too, the packet is not taken
 * (`admit` says so and the caller counts an ingress_overflow drop).
 *
 * Time is in card cycles. Work segments alternate compute and sleep (packet-meter.ts).
 * An engine is advanced lazily: to decide on a packet arriving at t, only the work that
 * starts before t needs running, and nothing that arrives later changes it. Engines
 * share nothing, so each runs on its own — and later: while an engine holds fewer
 * packets than its threads and queue have room for, counting every packet given to it
 * and not yet known to have ended, a new packet is certainly taken, and it waits in the
 * engine's pending list without the engine being run. Once the count reaches the room
 * (or at the end) the engine runs its pending packets, each as it would have on arrival
 * — run up to its arrival, then given a thread or a queue place — and then decides. An
 * engine's steps are the same either way, only done in batches, where its state is at
 * hand; packets end in the same order on each engine, and engines are independent.
 *
 * It runs once per simulated packet, and a card has dozens of engines that each packet
 * visits one of, so every engine's state lies in a few typed arrays shared by all
 * (`EngineBank`): an engine's own fields and its threads' side by side, and each packet
 * slot's fields and segments side by side, so that a packet touches a few cache lines
 * rather than a dozen arrays per engine. Nothing is allocated per packet; a finished
 * packet is told of by slot. `EngineSim` is one engine on a bank of its own.
 */
import { XdpError } from '../../xdp/errors.js';
import type { WorkSegments } from './packet-meter.js';

/** A packet an engine holds: what its owner gave, and when a thread first ran it. */
export interface JobFields {
  readonly id: number;
  /** Cycle its last bit arrived. */
  readonly arrival: number;
  /** Cycle it is in packet memory and a thread may start on it. */
  readonly ready: number;
  /** The owner's figures, carried through: engine cycles, sleep cycles, cycles to leave the card. */
  readonly compute: number;
  readonly sleep: number;
  readonly egress: number;
}

/** Told when a packet's last compute segment has ended: its engine, its slot (read it with the bank's accessors), its thread, its first and last cycle. */
export type BankSink = (engine: number, slot: number, thread: number, start: number, end: number) => void;

// An engine's record: its own fields, then each thread's.
const E_FREE = 0; // when the engine is next free to compute
const E_BUSY = 1; // cycles computed
const E_COMPLETED = 2;
const E_LAST_END = 3; // cycle the last packet ended
const E_MASK = 4; // threads holding a packet, one bit each (threads 0–30; an engine of more threads always scans)
const E_COUNT = 5; // packets in the ingress queue
const E_HEAD = 6; // the queue's first, in its ring
const E_SPARE = 7; // slots not in use
const E_GIVEN = 8; // packets given to the engine
const E_PENDING = 9; // of them, given but not yet run up to (pending, in a ring)
const E_PENDING_HEAD = 10;
const E_FIELDS = 11;
// A thread's: its packet's slot (−1: idle), when its next segment may start, the segment's index, when its packet
// started, and the packet's segment count (the slot's, kept here so that a scan of the threads reads no slot).
const T_SLOT = 0;
const T_AT = 1;
const T_SEG = 2;
const T_STARTED = 3;
const T_NSEGS = 4;
const T_FIELDS = 5;
// A slot's: the packet's fields (JobFields, in order), its segment count, then its segments.
const S_ID = 0;
const S_ARRIVAL = 1;
const S_READY = 2;
const S_COMPUTE = 3;
const S_SLEEP = 4;
const S_EGRESS = 5;
const S_NSEGS = 6;
const S_FIELDS = 7;
/** The index of the lowest set bit of m (−1 for none). */
const lowestBit = (m: number): number => 31 - Math.clz32(m & -m);

/** Segments a slot holds at first (a slot grows, with all others, for a packet of more). */
const INITIAL_SEGMENTS = 9;
/** The most bytes of state a bank takes (a profile's engines, threads and queue decide it). */
const MAX_BANK_BYTES = 2 ** 32;

export class EngineBank {
  /** Every engine's record (E_FIELDS + T_FIELDS · threads numbers each). */
  private readonly eng: Float64Array;
  private readonly stride: number;
  /** Every slot's record (S_FIELDS + segment capacity numbers each); engine e owns slots [e · perEngine, (e + 1) · perEngine). */
  private slots: Float64Array;
  private slotStride: number;
  private readonly perEngine: number;
  /** Per engine: its ingress queue (a ring of slots), its spare slots (a stack), its pending packets (a ring of slots). */
  private readonly lists: Int32Array;
  private readonly ringLength: number;
  private readonly listStride: number;
  private readonly pendingAt: number;

  constructor(
    readonly engines: number,
    readonly threads: number,
    readonly queueCapacity: number,
    private readonly done: BankSink,
  ) {
    this.stride = E_FIELDS + T_FIELDS * threads;
    this.perEngine = threads + queueCapacity;
    this.slotStride = S_FIELDS + INITIAL_SEGMENTS;
    const bytes = engines * (8 * this.stride + 8 * this.perEngine * this.slotStride + 4 * (Math.max(queueCapacity, 1) + 2 * this.perEngine));
    if (!(bytes <= MAX_BANK_BYTES)) {
      throw new XdpError(`${engines} engines of ${threads} threads, each with a ${queueCapacity}-packet ingress queue, need ${(bytes / 2 ** 20).toFixed(0)} MiB of simulator state, ` +
        `more than the ${MAX_BANK_BYTES / 2 ** 20} MiB it takes (the profile's timing.cores, timing.threadsPerCore and timing.ingressQueue)`);
    }
    this.eng = new Float64Array(engines * this.stride);
    this.slots = new Float64Array(engines * this.perEngine * this.slotStride);
    this.ringLength = Math.max(queueCapacity, 1);
    this.pendingAt = this.ringLength + this.perEngine;
    this.listStride = this.pendingAt + this.perEngine;
    this.lists = new Int32Array(engines * this.listStride);
    for (let e = 0; e < engines; e++) {
      const b = e * this.stride;
      for (let k = 0; k < threads; k++) this.eng[b + E_FIELDS + k * T_FIELDS + T_SLOT] = -1;
      // Spare slots, the engine's first on top.
      const spare = e * this.listStride + this.ringLength;
      for (let j = 0; j < this.perEngine; j++) this.lists[spare + j] = e * this.perEngine + (this.perEngine - 1 - j);
      this.eng[b + E_SPARE] = this.perEngine;
    }
  }

  /** Cycles engine e computed (`addBusy`: another run's share of them). */
  busy(e: number): number {
    return this.eng[e * this.stride + E_BUSY]!;
  }

  addBusy(e: number, cycles: number): void {
    this.eng[e * this.stride + E_BUSY]! += cycles;
  }

  completed(e: number): number {
    return this.eng[e * this.stride + E_COMPLETED]!;
  }

  /** Cycle engine e's last packet ended. */
  lastEnd(e: number): number {
    return this.eng[e * this.stride + E_LAST_END]!;
  }

  /** A held packet's fields (in a completion: the packet that completed). */
  job(slot: number): JobFields {
    return { id: this.id(slot), arrival: this.arrival(slot), ready: this.ready(slot), compute: this.compute(slot), sleep: this.sleep(slot), egress: this.egress(slot) };
  }

  /** One field of a held packet, without making a record: its id, arrival, ready, compute, sleep, egress. */
  id(slot: number): number {
    return this.slots[slot * this.slotStride + S_ID]!;
  }

  arrival(slot: number): number {
    return this.slots[slot * this.slotStride + S_ARRIVAL]!;
  }

  ready(slot: number): number {
    return this.slots[slot * this.slotStride + S_READY]!;
  }

  compute(slot: number): number {
    return this.slots[slot * this.slotStride + S_COMPUTE]!;
  }

  sleep(slot: number): number {
    return this.slots[slot * this.slotStride + S_SLEEP]!;
  }

  egress(slot: number): number {
    return this.slots[slot * this.slotStride + S_EGRESS]!;
  }

  /**
   * Whether a packet arriving at cycle t (after every packet given to engine e so far)
   * finds a thread of the engine or room in its queue: certainly while fewer packets are
   * held than there is room for; otherwise the engine is run up to t to decide.
   */
  admit(e: number, t: number): boolean {
    const eb = e * this.stride;
    if (this.eng[eb + E_GIVEN]! - this.eng[eb + E_COMPLETED]! < this.perEngine) return true;
    this.runTo(e, t);
    return this.idleThread(e) >= 0 || this.eng[eb + E_COUNT]! < this.queueCapacity;
  }

  /**
   * Give engine e a packet `admit` said it has room for (its JobFields, in their order,
   * as numbers); its segments are `segs[0 … n)`, copied. It waits in the pending list.
   */
  push(e: number, id: number, arrival: number, ready: number, compute: number, sleep: number, egress: number, segs: WorkSegments, n = segs.length): void {
    const eb = e * this.stride;
    const g = this.eng;
    if (g[eb + E_GIVEN]! - g[eb + E_COMPLETED]! >= this.perEngine) {
      throw new RangeError(`engine ${e}: a packet pushed with every thread and queue place held (admit first)`);
    }
    const slot = this.takeSlot(e, segs, n);
    const f = this.slots;
    const b = slot * this.slotStride;
    f[b + S_ID] = id;
    f[b + S_ARRIVAL] = arrival;
    f[b + S_READY] = ready;
    f[b + S_COMPUTE] = compute;
    f[b + S_SLEEP] = sleep;
    f[b + S_EGRESS] = egress;
    const pending = g[eb + E_PENDING]!;
    this.lists[e * this.listStride + this.pendingAt + ((g[eb + E_PENDING_HEAD]! + pending) % this.perEngine)] = slot;
    g[eb + E_PENDING] = pending + 1;
    g[eb + E_GIVEN]!++;
  }

  /** Engine e's pending packets run, in order: the engine run up to each one's arrival, then the packet given a thread or a queue place. */
  private runPending(e: number): void {
    const g = this.eng;
    const eb = e * this.stride;
    const lb = e * this.listStride + this.pendingAt;
    while (g[eb + E_PENDING]! > 0) {
      const head = g[eb + E_PENDING_HEAD]!;
      const slot = this.lists[lb + head]!;
      g[eb + E_PENDING_HEAD] = (head + 1) % this.perEngine;
      g[eb + E_PENDING]!--;
      this.advance(e, this.arrival(slot));
      const k = this.idleThread(e);
      if (k >= 0) {
        this.assign(e, k, slot, this.ready(slot));
        continue;
      }
      // Room is certain: fewer packets were held at its arrival than threads and queue places.
      const count = g[eb + E_COUNT]!;
      this.lists[e * this.listStride + ((g[eb + E_HEAD]! + count) % this.ringLength)] = slot;
      g[eb + E_COUNT] = count + 1;
    }
  }

  /**
   * Keep engine e saturated: run until a thread is free, then give it the packet's work
   * (ready the moment the thread is). The rate this reaches is the engine's capacity.
   */
  pushSaturated(e: number, segs: WorkSegments, n = segs.length): void {
    for (;;) {
      const k = this.idleThread(e);
      if (k >= 0) {
        const slot = this.takeSlot(e, segs, n);
        this.assign(e, k, slot, Math.max(this.eng[e * this.stride + E_FIELDS + k * T_FIELDS + T_AT]!, 0));
        return;
      }
      this.step(e, Infinity);
    }
  }

  /** Engine e run up to cycle t now: its pending packets given their places, every segment that starts by t run, every packet that has ended by then let go. */
  runTo(e: number, t: number): void {
    this.runPending(e);
    this.advance(e, t);
  }

  /** Run every segment of engine e that starts by cycle t, and let go of every packet that has ended by then (its pending packets aside). */
  private advance(e: number, t: number): void {
    const mb = e * this.stride + E_MASK;
    for (;;) {
      const mask = this.eng[mb]!;
      if (this.threads <= 31) {
        // No thread holds a packet: nothing runs (the queue is empty too, as a thread let go takes the next).
        if (mask === 0) return;
        if ((mask & (mask - 1)) === 0) {
          if (!this.runAlone(e, 31 - Math.clz32(mask), t)) return;
          continue;
        }
      }
      if (!this.step(e, t)) return;
    }
  }

  /** Run everything given so far to its end, on every engine. */
  finish(): void {
    for (let e = 0; e < this.engines; e++) this.runTo(e, Infinity);
  }

  /** A spare slot of engine e, holding a copy of `segs[0 … n)`. */
  private takeSlot(e: number, segs: WorkSegments, n: number): number {
    if (n > this.slotStride - S_FIELDS) this.widen(n);
    const eb = e * this.stride;
    const spare = this.eng[eb + E_SPARE]! - 1;
    this.eng[eb + E_SPARE] = spare;
    const slot = this.lists[e * this.listStride + this.ringLength + spare]!;
    const f = this.slots;
    const b = slot * this.slotStride;
    f[b + S_NSEGS] = n;
    for (let i = 0; i < n; i++) f[b + S_FIELDS + i] = segs[i]!;
    return slot;
  }

  /** Every slot made room for `n` segments (twice as many as before, at least). */
  private widen(n: number): void {
    const stride = S_FIELDS + Math.max(n, 2 * (this.slotStride - S_FIELDS));
    const wider = new Float64Array((this.slots.length / this.slotStride) * stride);
    for (let s = 0; s * this.slotStride < this.slots.length; s++) {
      wider.set(this.slots.subarray(s * this.slotStride, (s + 1) * this.slotStride), s * stride);
    }
    this.slots = wider;
    this.slotStride = stride;
  }

  /**
   * The next event of engine e by cycle t, if any: a packet's end (its thread is let go),
   * or else the next compute segment, whichever comes first. False when none is due by t.
   */
  private step(e: number, t: number): boolean {
    const eb = e * this.stride;
    const g = this.eng;
    let k = -1;
    let when = Infinity;
    let ending = -1;
    let endsAt = Infinity;
    for (let n = 0; n < this.threads; n++) {
      const tb = eb + E_FIELDS + n * T_FIELDS;
      const slot = g[tb + T_SLOT]!;
      if (slot < 0) continue;
      const at = g[tb + T_AT]!;
      if (g[tb + T_SEG]! >= g[tb + T_NSEGS]!) {
        if (at < endsAt) {
          ending = n;
          endsAt = at;
        }
      } else if (at < when) {
        k = n;
        when = at;
      }
    }
    const start = k >= 0 ? Math.max(g[eb + E_FREE]!, when) : Infinity;
    if (ending >= 0 && endsAt <= start && endsAt <= t) {
      this.release(e, ending);
      return true;
    }
    if (k < 0 || start > t) return false;
    this.runSegment(e, k, start);
    return true;
  }

  /**
   * `step` over and over while thread n alone holds a packet (the common case below
   * saturation), without a scan: its segments that start by t, then its end if that is
   * by t too. True when the packet ended (the thread may have taken a queued one).
   */
  private runAlone(e: number, n: number, t: number): boolean {
    const g = this.eng;
    const eb = e * this.stride;
    const tb = eb + E_FIELDS + n * T_FIELDS;
    const f = this.slots;
    const segs = g[tb + T_SLOT]! * this.slotStride + S_FIELDS;
    const count = g[tb + T_NSEGS]!;
    let i = g[tb + T_SEG]!;
    let at = g[tb + T_AT]!;
    let free = g[eb + E_FREE]!;
    let busy = g[eb + E_BUSY]!;
    while (i < count) {
      const start = free > at ? free : at;
      if (start > t) break;
      if (i === 0) g[tb + T_STARTED] = start;
      const end = start + f[segs + i]!;
      busy += f[segs + i]!;
      free = end;
      at = i + 1 < count ? end + f[segs + i + 1]! : end;
      i += 2;
    }
    g[tb + T_SEG] = i;
    g[tb + T_AT] = at;
    g[eb + E_FREE] = free;
    g[eb + E_BUSY] = busy;
    if (i < count || at > t) return false;
    this.release(e, n);
    return true;
  }

  /** Engine e's first idle thread, or −1. */
  private idleThread(e: number): number {
    const eb = e * this.stride;
    if (this.threads <= 31) {
      const k = lowestBit(~this.eng[eb + E_MASK]!);
      return k < this.threads ? k : -1;
    }
    for (let k = 0; k < this.threads; k++) if (this.eng[eb + E_FIELDS + k * T_FIELDS + T_SLOT]! < 0) return k;
    return -1;
  }

  private assign(e: number, k: number, slot: number, ready: number): void {
    const g = this.eng;
    const eb = e * this.stride;
    if (k < 31) g[eb + E_MASK] = g[eb + E_MASK]! | (1 << k);
    const tb = eb + E_FIELDS + k * T_FIELDS;
    g[tb + T_SLOT] = slot;
    g[tb + T_AT] = ready;
    g[tb + T_SEG] = 0;
    g[tb + T_NSEGS] = this.slots[slot * this.slotStride + S_NSEGS]!;
  }

  private runSegment(e: number, k: number, s: number): void {
    const g = this.eng;
    const eb = e * this.stride;
    const tb = eb + E_FIELDS + k * T_FIELDS;
    const sb = g[tb + T_SLOT]! * this.slotStride;
    const n = g[tb + T_NSEGS]!;
    const i = g[tb + T_SEG]!;
    if (i === 0) g[tb + T_STARTED] = s;
    const seg = this.slots[sb + S_FIELDS + i]!;
    const end = s + seg;
    g[eb + E_BUSY]! += seg;
    g[eb + E_FREE] = end;
    // After a compute segment: the sleep that follows (if any) until the next; after the last, the end.
    const sleep = i + 1 < n ? this.slots[sb + S_FIELDS + i + 1]! : 0;
    g[tb + T_AT] = end + sleep;
    g[tb + T_SEG] = i + 2;
  }

  /** A packet has ended on thread k of engine e: the thread is free and takes the next queued packet. */
  private release(e: number, k: number): void {
    const g = this.eng;
    const eb = e * this.stride;
    const tb = eb + E_FIELDS + k * T_FIELDS;
    const slot = g[tb + T_SLOT]!;
    const end = g[tb + T_AT]!;
    g[eb + E_COMPLETED]!++;
    g[eb + E_LAST_END] = end;
    g[tb + T_SLOT] = -1;
    if (k < 31) g[eb + E_MASK] = g[eb + E_MASK]! & ~(1 << k);
    this.done(e, slot, k, g[tb + T_STARTED]!, end);
    const lb = e * this.listStride;
    const spare = g[eb + E_SPARE]!;
    this.lists[lb + this.ringLength + spare] = slot;
    g[eb + E_SPARE] = spare + 1;
    const count = g[eb + E_COUNT]!;
    if (count > 0) {
      const head = g[eb + E_HEAD]!;
      const next = this.lists[lb + head]!;
      g[eb + E_HEAD] = (head + 1) % this.ringLength;
      g[eb + E_COUNT] = count - 1;
      this.assign(e, k, next, Math.max(end, this.ready(next)));
    }
  }
}

/** Told when a packet of a lone engine has ended (`EngineSim`). */
export type CompletionSink = (e: EngineSim, slot: number, thread: number, start: number, end: number) => void;

/** One engine on a bank of its own (what-if runs, tests): the bank's methods without the engine number. */
export class EngineSim {
  private readonly bank: EngineBank;

  constructor(
    readonly index: number,
    readonly threads: number,
    readonly queueCapacity: number,
    done: CompletionSink,
  ) {
    this.bank = new EngineBank(1, threads, queueCapacity, (_, slot, thread, start, end) => done(this, slot, thread, start, end));
  }

  get busy(): number {
    return this.bank.busy(0);
  }

  get completed(): number {
    return this.bank.completed(0);
  }

  get lastEnd(): number {
    return this.bank.lastEnd(0);
  }

  job(slot: number): JobFields {
    return this.bank.job(slot);
  }

  admit(t: number): boolean {
    return this.bank.admit(0, t);
  }

  push(id: number, arrival: number, ready: number, compute: number, sleep: number, egress: number, segs: WorkSegments, n = segs.length): void {
    this.bank.push(0, id, arrival, ready, compute, sleep, egress, segs, n);
  }

  pushSaturated(segs: WorkSegments, n = segs.length): void {
    this.bank.pushSaturated(0, segs, n);
  }

  finish(): void {
    this.bank.finish();
  }
}

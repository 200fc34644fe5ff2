/**
 * One engine (an NFP microengine) and its hardware threads, as the simulator runs them:
 * a thread runs a packet's work until the packet's next memory command, then sleeps
 * until the command's signal while another ready thread of the same engine runs — the
 * latency hiding that makes throughput grow with threads until the engine's compute is
 * the limit. Threads do not preempt each other (the NFP's threads swap only on a
 * command's `ctx_swap`); of the threads ready, the one ready longest runs first (ties:
 * the lower thread number). A packet that arrives while every thread has one waits in
 * the engine's ingress queue; when that is full too, the packet is not taken
 * (`admit` says so and the caller counts an ingress_overflow drop).
 *
 * Time is in card cycles. Work segments alternate compute and sleep (packet-meter.ts).
 * The engine is advanced lazily: to decide on a packet arriving at t, only the work
 * that starts before t needs running, and nothing that arrives later changes it.
 *
 * It runs once per simulated packet, so it keeps its packets in fixed slots of typed
 * arrays (a packet's segments copied in) and tells of a finished packet by slot,
 * allocating nothing per packet.
 */
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

/** Told when a packet's last compute segment has ended: the engine, the packet's slot (read it with `job`), its thread, its first and last cycle. */
export type CompletionSink = (e: EngineSim, slot: number, thread: number, start: number, end: number) => void;

const F_ID = 0;
const F_ARRIVAL = 1;
const F_READY = 2;
const F_COMPUTE = 3;
const F_SLEEP = 4;
const F_EGRESS = 5;
const FIELDS = 6;

export class EngineSim {
  /** Cycles the engine computed. */
  busy = 0;
  completed = 0;
  /** Cycle the last packet ended. */
  lastEnd = 0;
  private free = 0;
  /** Per slot: its packet's fields, segments and segment count; the slots not in use. */
  private readonly fields: Float64Array;
  private readonly segs: Float64Array[];
  private readonly nsegs: Int32Array;
  private readonly spare: Int32Array;
  private spareCount: number;
  /** Per thread: its packet's slot (−1: idle), when its next segment may start, the segment's index, when its packet started. */
  private readonly slotOf: Int32Array;
  private readonly at: Float64Array;
  private readonly seg: Int32Array;
  private readonly started: Float64Array;
  /** Threads holding a packet, one bit each (threads 0–30; an engine of more threads always scans). */
  private busyMask = 0;
  /** The ingress queue: slots in a ring. */
  private readonly ring: Int32Array;
  private head = 0;
  private count = 0;

  constructor(
    readonly index: number,
    readonly threads: number,
    readonly queueCapacity: number,
    private readonly done: CompletionSink,
  ) {
    const slots = threads + queueCapacity;
    this.fields = new Float64Array(slots * FIELDS);
    this.segs = Array.from({ length: slots }, () => new Float64Array(8));
    this.nsegs = new Int32Array(slots);
    this.spare = Int32Array.from({ length: slots }, (_, k) => slots - 1 - k);
    this.spareCount = slots;
    this.slotOf = new Int32Array(threads).fill(-1);
    this.at = new Float64Array(threads);
    this.seg = new Int32Array(threads);
    this.started = new Float64Array(threads);
    this.ring = new Int32Array(Math.max(queueCapacity, 1));
  }

  /** Packets waiting in the ingress queue. */
  get queued(): number {
    return this.count;
  }

  /** A held packet's fields (in a completion: the packet that completed). */
  job(slot: number): JobFields {
    const f = this.fields;
    const b = slot * FIELDS;
    return { id: f[b + F_ID]!, arrival: f[b + F_ARRIVAL]!, ready: f[b + F_READY]!, compute: f[b + F_COMPUTE]!, sleep: f[b + F_SLEEP]!, egress: f[b + F_EGRESS]! };
  }

  /** One field of a held packet, without making a record: its id, arrival, ready, compute, sleep, egress. */
  id(slot: number): number {
    return this.fields[slot * FIELDS + F_ID]!;
  }

  arrival(slot: number): number {
    return this.fields[slot * FIELDS + F_ARRIVAL]!;
  }

  ready(slot: number): number {
    return this.fields[slot * FIELDS + F_READY]!;
  }

  compute(slot: number): number {
    return this.fields[slot * FIELDS + F_COMPUTE]!;
  }

  sleep(slot: number): number {
    return this.fields[slot * FIELDS + F_SLEEP]!;
  }

  egress(slot: number): number {
    return this.fields[slot * FIELDS + F_EGRESS]!;
  }

  /** Whether a packet arriving at cycle t finds a thread or room in the queue (the engine is run up to t). */
  admit(t: number): boolean {
    this.advance(t);
    return this.idleThread() >= 0 || this.count < this.queueCapacity;
  }

  /**
   * Give the engine a packet `admit` said it has room for (its JobFields, in their order,
   * as numbers); its segments are `segs[0 … n)`, copied.
   */
  push(id: number, arrival: number, ready: number, compute: number, sleep: number, egress: number, segs: WorkSegments, n = segs.length): void {
    const slot = this.spare[--this.spareCount]!;
    const f = this.fields;
    const b = slot * FIELDS;
    f[b + F_ID] = id;
    f[b + F_ARRIVAL] = arrival;
    f[b + F_READY] = ready;
    f[b + F_COMPUTE] = compute;
    f[b + F_SLEEP] = sleep;
    f[b + F_EGRESS] = egress;
    this.copySegs(slot, segs, n);
    const k = this.idleThread();
    if (k >= 0) {
      this.assign(k, slot, ready);
    } else {
      if (this.count >= this.queueCapacity) throw new RangeError(`engine ${this.index}: a packet pushed with no thread idle and the queue full (admit first)`);
      this.ring[(this.head + this.count) % this.ring.length] = slot;
      this.count++;
    }
  }

  /**
   * Keep the engine saturated: run until a thread is free, then give it the packet's
   * work (ready the moment the thread is). The rate this reaches is the engine's capacity.
   */
  pushSaturated(segs: WorkSegments, n = segs.length): void {
    for (;;) {
      const k = this.idleThread();
      if (k >= 0) {
        const slot = this.spare[--this.spareCount]!;
        this.copySegs(slot, segs, n);
        this.assign(k, slot, Math.max(this.at[k]!, 0));
        return;
      }
      this.step(Infinity);
    }
  }

  /** Run every segment that starts by cycle t, and let go of every packet that has ended by then. */
  advance(t: number): void {
    for (;;) {
      const mask = this.busyMask;
      if (this.threads <= 31 && mask !== 0 && (mask & (mask - 1)) === 0) {
        if (!this.runAlone(31 - Math.clz32(mask), t)) return;
      } else if (!this.step(t)) {
        return;
      }
    }
  }

  /** Run everything given so far to its end. */
  finish(): void {
    this.advance(Infinity);
  }

  /**
   * The next event by cycle t, if any: a packet's end (its thread is let go), or else
   * the next compute segment, whichever comes first. False when none is due by t.
   */
  private step(t: number): boolean {
    let k = -1;
    let when = Infinity;
    let ending = -1;
    let endsAt = Infinity;
    for (let n = 0; n < this.threads; n++) {
      const slot = this.slotOf[n]!;
      if (slot < 0) continue;
      const at = this.at[n]!;
      if (this.seg[n]! >= this.nsegs[slot]!) {
        if (at < endsAt) {
          ending = n;
          endsAt = at;
        }
      } else if (at < when) {
        k = n;
        when = at;
      }
    }
    const start = k >= 0 ? Math.max(this.free, when) : Infinity;
    if (ending >= 0 && endsAt <= start && endsAt <= t) {
      this.release(ending);
      return true;
    }
    if (k < 0 || start > t) return false;
    this.runSegment(k, start);
    return true;
  }

  /**
   * `step` over and over while thread n alone holds a packet (the common case below
   * saturation), without a scan: its segments that start by t, then its end if that is
   * by t too. True when the packet ended (the thread may have taken a queued one).
   */
  private runAlone(n: number, t: number): boolean {
    const slot = this.slotOf[n]!;
    const segs = this.segs[slot]!;
    const count = this.nsegs[slot]!;
    let i = this.seg[n]!;
    let at = this.at[n]!;
    let free = this.free;
    let busy = this.busy;
    while (i < count) {
      const start = free > at ? free : at;
      if (start > t) break;
      if (i === 0) this.started[n] = start;
      const end = start + segs[i]!;
      busy += segs[i]!;
      free = end;
      at = i + 1 < count ? end + segs[i + 1]! : end;
      i += 2;
    }
    this.seg[n] = i;
    this.at[n] = at;
    this.free = free;
    this.busy = busy;
    if (i < count || at > t) return false;
    this.release(n);
    return true;
  }

  private idleThread(): number {
    for (let k = 0; k < this.threads; k++) if (this.slotOf[k]! < 0) return k;
    return -1;
  }

  private copySegs(slot: number, segs: WorkSegments, n: number): void {
    let to = this.segs[slot]!;
    if (to.length < n) to = this.segs[slot] = new Float64Array(Math.max(n, 2 * to.length));
    for (let i = 0; i < n; i++) to[i] = segs[i]!;
    this.nsegs[slot] = n;
  }

  private assign(k: number, slot: number, ready: number): void {
    if (k < 31) this.busyMask |= 1 << k;
    this.slotOf[k] = slot;
    this.at[k] = ready;
    this.seg[k] = 0;
  }

  private runSegment(k: number, s: number): void {
    const segs = this.segs[this.slotOf[k]!]!;
    const n = this.nsegs[this.slotOf[k]!]!;
    const i = this.seg[k]!;
    if (i === 0) this.started[k] = s;
    const end = s + segs[i]!;
    this.busy += segs[i]!;
    this.free = end;
    // After a compute segment: the sleep that follows (if any) until the next; after the last, the end.
    const sleep = i + 1 < n ? segs[i + 1]! : 0;
    this.at[k] = end + sleep;
    this.seg[k] = i + 2;
  }

  /** A packet has ended: its thread is free and takes the next queued packet. */
  private release(k: number): void {
    const slot = this.slotOf[k]!;
    const end = this.at[k]!;
    this.completed++;
    this.lastEnd = end;
    this.slotOf[k] = -1;
    if (k < 31) this.busyMask &= ~(1 << k);
    this.done(this, slot, k, this.started[k]!, end);
    this.spare[this.spareCount++] = slot;
    if (this.count > 0) {
      const next = this.ring[this.head]!;
      this.head = (this.head + 1) % this.ring.length;
      this.count--;
      this.assign(k, next, Math.max(end, this.ready(next)));
    }
  }
}

/**
 * The engine model's per-packet arithmetic as WebAssembly (AssemblyScript, compiled by
 * `npm run build` to dist/wasm/timing-core.wasm; nic-sim/timing/timing-core.ts loads
 * it): the card's engines and their threads (engine.ts states the rules this follows
 * step for step), and the part of the card's timing a packet pays for as it is taken —
 * its DMA and egress cycles, its latency into a histogram when it ends, the capacity
 * sample's saturated engine and the cycles-per-packet histogram. The simulator runs
 * this for every packet; written as JavaScript it cost more than the card's own code
 * (docs/calibration.md, "How fast it runs"). Hand-written: no package models NFP
 * engines.
 *
 * Arithmetic is IEEE double as in JavaScript, in the same order, and every comparison
 * is written out as engine.ts writes it, so the outcomes are the same to the bit.
 * One instance holds up to two banks (the card's engines and the saturated engine) and
 * one card's totals; nothing is ever freed (the stub runtime): a bank is made once.
 */

// JavaScript's side (nic-sim/timing/timing-core.ts).
/** A packet of bank `bank` has ended (banks that report to JavaScript). */
@external("env", "completed")
declare function completedJs(bank: usize, engine: i32, slot: i32, thread: i32, start: f64, end: f64): void;
/** A packet the card took has left it: what its trace line says (only when the card keeps packets' timing). */
@external("env", "traced")
declare function tracedJs(id: f64, engine: i32, thread: i32, cycles: f64, sleep: f64, latencyNs: f64, queued: f64): void;
/** A histogram's bucket beyond the dense ones (a value of 2^40 or more) counted once more. */
@external("env", "sparse")
declare function sparseJs(hist: usize, bucket: i32): void;

// An engine's numbers (f64) and small integers (i32), then each thread's.
const EF_FREE = 0; // when the engine is next free to compute
const EF_BUSY = 1; // cycles computed
const EF_COMPLETED = 2;
const EF_LAST_END = 3; // cycle the last packet ended
const EF_GIVEN = 4; // packets given to the engine
const EF_FIELDS = 5;
const TF_AT = 0; // when the thread's next segment may start
const TF_STARTED = 1; // when its packet started
const TF_FIELDS = 2;
const EI_MASK = 0; // threads holding a packet, one bit each (threads 0–30)
const EI_COUNT = 1; // packets in the ingress queue
const EI_HEAD = 2; // the queue's first, in its ring
const EI_SPARE = 3; // slots not in use
const EI_PENDING = 4; // packets given but not yet run up to (in a ring)
const EI_PENDING_HEAD = 5;
const EI_FIELDS = 6;
const TI_SLOT = 0; // its packet's slot (−1: idle)
const TI_SEG = 1; // the segment its packet is at
const TI_NSEGS = 2; // its packet's segment count
const TI_FIELDS = 3;
// A slot's: the packet's fields, its segment count, then its segments.
const S_ID = 0;
const S_ARRIVAL = 1;
const S_READY = 2;
const S_COMPUTE = 3;
const S_SLEEP = 4;
const S_EGRESS = 5;
const S_NSEGS = 6;
const S_FIELDS = 7;
const INITIAL_SEGMENTS = 9;

/** Where a bank's finished packets are told of. */
const SINK_JS = 0;
const SINK_CARD = 1;
const SINK_NONE = 2;

@inline function f64At(base: usize, i: i32): f64 {
  return load<f64>(base + (<usize>i << 3));
}
@inline function setF64(base: usize, i: i32, v: f64): void {
  store<f64>(base + (<usize>i << 3), v);
}
@inline function i32At(base: usize, i: i32): i32 {
  return load<i32>(base + (<usize>i << 2));
}
@inline function setI32(base: usize, i: i32, v: i32): void {
  store<i32>(base + (<usize>i << 2), v);
}
/** A ring index `i` (below twice the ring's length `n`) taken into the ring: a division per use cost more than the rest of a packet's ring work. */
@inline function wrap(i: i32, n: i32): i32 {
  return i >= n ? i - n : i;
}
@inline function lowestBit(m: i32): i32 {
  return 31 - clz<i32>(m & -m);
}

/** Zeroed memory of `bytes`, 8-byte aligned. */
function zeroed(bytes: usize): usize {
  const p = heap.alloc(bytes);
  memory.fill(p, 0, bytes);
  return p;
}

class Bank {
  engines: i32;
  threads: i32;
  queueCapacity: i32;
  perEngine: i32;
  sink: i32;
  strideF: i32;
  strideI: i32;
  engF: usize;
  engI: usize;
  slots: usize;
  slotStride: i32;
  lists: usize;
  ringLength: i32;
  listStride: i32;
  pendingAt: i32;

  constructor(engines: i32, threads: i32, queueCapacity: i32, sink: i32) {
    this.engines = engines;
    this.threads = threads;
    this.queueCapacity = queueCapacity;
    this.sink = sink;
    this.perEngine = threads + queueCapacity;
    this.strideF = EF_FIELDS + TF_FIELDS * threads;
    this.strideI = EI_FIELDS + TI_FIELDS * threads;
    this.slotStride = S_FIELDS + INITIAL_SEGMENTS;
    this.engF = zeroed(<usize>engines * <usize>this.strideF * 8);
    this.engI = zeroed(<usize>engines * <usize>this.strideI * 4);
    this.slots = zeroed(<usize>engines * <usize>this.perEngine * <usize>this.slotStride * 8);
    this.ringLength = queueCapacity > 1 ? queueCapacity : 1;
    this.pendingAt = this.ringLength + this.perEngine;
    this.listStride = this.pendingAt + this.perEngine;
    this.lists = zeroed(<usize>engines * <usize>this.listStride * 4);
    for (let e = 0; e < engines; e++) {
      const ib = this.engI + (<usize>e * <usize>this.strideI << 2);
      for (let k = 0; k < threads; k++) setI32(ib, EI_FIELDS + k * TI_FIELDS + TI_SLOT, -1);
      // Spare slots, the engine's first on top.
      const spare = this.lists + (<usize>(e * this.listStride + this.ringLength) << 2);
      for (let j = 0; j < this.perEngine; j++) setI32(spare, j, e * this.perEngine + (this.perEngine - 1 - j));
      setI32(ib, EI_SPARE, this.perEngine);
    }
  }

  @inline ef(e: i32): usize {
    return this.engF + (<usize>e * <usize>this.strideF << 3);
  }

  @inline ei(e: i32): usize {
    return this.engI + (<usize>e * <usize>this.strideI << 2);
  }

  @inline slot(s: i32): usize {
    return this.slots + (<usize>s * <usize>this.slotStride << 3);
  }

  @inline list(e: i32): usize {
    return this.lists + (<usize>e * <usize>this.listStride << 2);
  }

  admit(e: i32, t: f64): bool {
    const f = this.ef(e);
    if (f64At(f, EF_GIVEN) - f64At(f, EF_COMPLETED) < <f64>this.perEngine) return true;
    this.runTo(e, t);
    return this.idleThread(e) >= 0 || i32At(this.ei(e), EI_COUNT) < this.queueCapacity;
  }

  push(e: i32, id: f64, arrival: f64, ready: f64, compute: f64, sleep: f64, egress: f64, segs: usize, n: i32): bool {
    const f = this.ef(e);
    const i = this.ei(e);
    if (f64At(f, EF_GIVEN) - f64At(f, EF_COMPLETED) >= <f64>this.perEngine) return false;
    const slot = this.takeSlot(e, segs, n);
    const b = this.slot(slot);
    setF64(b, S_ID, id);
    setF64(b, S_ARRIVAL, arrival);
    setF64(b, S_READY, ready);
    setF64(b, S_COMPUTE, compute);
    setF64(b, S_SLEEP, sleep);
    setF64(b, S_EGRESS, egress);
    const pending = i32At(i, EI_PENDING);
    setI32(this.list(e) + (<usize>this.pendingAt << 2), wrap(i32At(i, EI_PENDING_HEAD) + pending, this.perEngine), slot);
    setI32(i, EI_PENDING, pending + 1);
    setF64(f, EF_GIVEN, f64At(f, EF_GIVEN) + 1);
    return true;
  }

  runPending(e: i32): void {
    const i = this.ei(e);
    const pend = this.list(e) + (<usize>this.pendingAt << 2);
    while (i32At(i, EI_PENDING) > 0) {
      const head = i32At(i, EI_PENDING_HEAD);
      const slot = i32At(pend, head);
      setI32(i, EI_PENDING_HEAD, wrap(head + 1, this.perEngine));
      setI32(i, EI_PENDING, i32At(i, EI_PENDING) - 1);
      this.advance(e, f64At(this.slot(slot), S_ARRIVAL));
      const k = this.idleThread(e);
      if (k >= 0) {
        this.assign(e, k, slot, f64At(this.slot(slot), S_READY));
        continue;
      }
      // Room is certain: fewer packets were held at its arrival than threads and queue places.
      const count = i32At(i, EI_COUNT);
      setI32(this.list(e), wrap(i32At(i, EI_HEAD) + count, this.ringLength), slot);
      setI32(i, EI_COUNT, count + 1);
    }
  }

  pushSaturated(e: i32, segs: usize, n: i32): void {
    for (;;) {
      const k = this.idleThread(e);
      if (k >= 0) {
        const slot = this.takeSlot(e, segs, n);
        const at = f64At(this.ef(e), EF_FIELDS + k * TF_FIELDS + TF_AT);
        this.assign(e, k, slot, Math.max(at, 0));
        return;
      }
      this.step(e, Infinity);
    }
  }

  runTo(e: i32, t: f64): void {
    this.runPending(e);
    this.advance(e, t);
  }

  advance(e: i32, t: f64): void {
    const i = this.ei(e);
    for (;;) {
      if (this.threads <= 31) {
        const mask = i32At(i, EI_MASK);
        // No thread holds a packet: nothing runs (the queue is empty too, as a thread let go takes the next).
        if (mask == 0) return;
        if ((mask & (mask - 1)) == 0) {
          if (!this.runAlone(e, 31 - clz<i32>(mask), t)) return;
          continue;
        }
      }
      if (!this.step(e, t)) return;
    }
  }

  finish(): void {
    for (let e = 0; e < this.engines; e++) this.runTo(e, Infinity);
  }

  takeSlot(e: i32, segs: usize, n: i32): i32 {
    if (n > this.slotStride - S_FIELDS) this.widen(n);
    const i = this.ei(e);
    const spare = i32At(i, EI_SPARE) - 1;
    setI32(i, EI_SPARE, spare);
    const slot = i32At(this.list(e) + (<usize>this.ringLength << 2), spare);
    const b = this.slot(slot);
    setF64(b, S_NSEGS, <f64>n);
    // A loop, not memory.copy: the engine calls out of the module for that, and these are a few numbers.
    for (let k = 0; k < n; k++) setF64(b, S_FIELDS + k, f64At(segs, k));
    return slot;
  }

  widen(n: i32): void {
    const old = this.slotStride - S_FIELDS;
    const stride = S_FIELDS + (n > 2 * old ? n : 2 * old);
    const count = this.engines * this.perEngine;
    const wider = zeroed(<usize>count * <usize>stride * 8);
    for (let s = 0; s < count; s++) {
      memory.copy(wider + (<usize>s * <usize>stride << 3), this.slot(s), <usize>this.slotStride << 3);
    }
    this.slots = wider;
    this.slotStride = stride;
  }

  step(e: i32, t: f64): bool {
    const f = this.ef(e);
    const i = this.ei(e);
    let k = -1;
    let when = Infinity;
    let ending = -1;
    let endsAt = Infinity;
    for (let n = 0; n < this.threads; n++) {
      const ti = EI_FIELDS + n * TI_FIELDS;
      if (i32At(i, ti + TI_SLOT) < 0) continue;
      const at = f64At(f, EF_FIELDS + n * TF_FIELDS + TF_AT);
      if (i32At(i, ti + TI_SEG) >= i32At(i, ti + TI_NSEGS)) {
        if (at < endsAt) {
          ending = n;
          endsAt = at;
        }
      } else if (at < when) {
        k = n;
        when = at;
      }
    }
    const start = k >= 0 ? Math.max(f64At(f, EF_FREE), when) : Infinity;
    if (ending >= 0 && endsAt <= start && endsAt <= t) {
      this.release(e, ending);
      return true;
    }
    if (k < 0 || start > t) return false;
    this.runSegment(e, k, start);
    return true;
  }

  runAlone(e: i32, n: i32, t: f64): bool {
    const f = this.ef(e);
    const ii = this.ei(e);
    const tf = EF_FIELDS + n * TF_FIELDS;
    const ti = EI_FIELDS + n * TI_FIELDS;
    const segs = this.slot(i32At(ii, ti + TI_SLOT)) + (S_FIELDS << 3);
    const count = i32At(ii, ti + TI_NSEGS);
    let i = i32At(ii, ti + TI_SEG);
    let at = f64At(f, tf + TF_AT);
    let free = f64At(f, EF_FREE);
    let busy = f64At(f, EF_BUSY);
    while (i < count) {
      const start = free > at ? free : at;
      if (start > t) break;
      if (i == 0) setF64(f, tf + TF_STARTED, start);
      const seg = f64At(segs, i);
      const end = start + seg;
      busy += seg;
      free = end;
      at = i + 1 < count ? end + f64At(segs, i + 1) : end;
      i += 2;
    }
    setI32(ii, ti + TI_SEG, i);
    setF64(f, tf + TF_AT, at);
    setF64(f, EF_FREE, free);
    setF64(f, EF_BUSY, busy);
    if (i < count || at > t) return false;
    this.release(e, n);
    return true;
  }

  idleThread(e: i32): i32 {
    const i = this.ei(e);
    if (this.threads <= 31) {
      const k = lowestBit(~i32At(i, EI_MASK));
      return k < this.threads ? k : -1;
    }
    for (let k = 0; k < this.threads; k++) if (i32At(i, EI_FIELDS + k * TI_FIELDS + TI_SLOT) < 0) return k;
    return -1;
  }

  assign(e: i32, k: i32, slot: i32, ready: f64): void {
    const i = this.ei(e);
    if (k < 31) setI32(i, EI_MASK, i32At(i, EI_MASK) | (1 << k));
    const ti = EI_FIELDS + k * TI_FIELDS;
    setI32(i, ti + TI_SLOT, slot);
    setF64(this.ef(e), EF_FIELDS + k * TF_FIELDS + TF_AT, ready);
    setI32(i, ti + TI_SEG, 0);
    setI32(i, ti + TI_NSEGS, <i32>f64At(this.slot(slot), S_NSEGS));
  }

  runSegment(e: i32, k: i32, s: f64): void {
    const f = this.ef(e);
    const ii = this.ei(e);
    const tf = EF_FIELDS + k * TF_FIELDS;
    const ti = EI_FIELDS + k * TI_FIELDS;
    const sb = this.slot(i32At(ii, ti + TI_SLOT));
    const n = i32At(ii, ti + TI_NSEGS);
    const i = i32At(ii, ti + TI_SEG);
    if (i == 0) setF64(f, tf + TF_STARTED, s);
    const seg = f64At(sb, S_FIELDS + i);
    const end = s + seg;
    setF64(f, EF_BUSY, f64At(f, EF_BUSY) + seg);
    setF64(f, EF_FREE, end);
    // After a compute segment: the sleep that follows (if any) until the next; after the last, the end.
    const sleep = i + 1 < n ? f64At(sb, S_FIELDS + i + 1) : 0;
    setF64(f, tf + TF_AT, end + sleep);
    setI32(ii, ti + TI_SEG, i + 2);
  }

  release(e: i32, k: i32): void {
    const f = this.ef(e);
    const ii = this.ei(e);
    const tf = EF_FIELDS + k * TF_FIELDS;
    const ti = EI_FIELDS + k * TI_FIELDS;
    const slot = i32At(ii, ti + TI_SLOT);
    const end = f64At(f, tf + TF_AT);
    setF64(f, EF_COMPLETED, f64At(f, EF_COMPLETED) + 1);
    setF64(f, EF_LAST_END, end);
    setI32(ii, ti + TI_SLOT, -1);
    if (k < 31) setI32(ii, EI_MASK, i32At(ii, EI_MASK) & ~(1 << k));
    const started = f64At(f, tf + TF_STARTED);
    if (this.sink == SINK_CARD) cardCompleted(this, e, slot, k, started, end);
    else if (this.sink == SINK_JS) completedJs(changetype<usize>(this), e, slot, k, started, end);
    const l = this.list(e);
    const spare = i32At(ii, EI_SPARE);
    setI32(l + (<usize>this.ringLength << 2), spare, slot);
    setI32(ii, EI_SPARE, spare + 1);
    const count = i32At(ii, EI_COUNT);
    if (count > 0) {
      const head = i32At(ii, EI_HEAD);
      const next = i32At(l, head);
      setI32(ii, EI_HEAD, wrap(head + 1, this.ringLength));
      setI32(ii, EI_COUNT, count - 1);
      this.assign(e, k, next, Math.max(end, f64At(this.slot(next), S_READY)));
    }
  }
}

// ---- Histograms (histogram.ts's buckets and exact sum; its JavaScript reads them).

const H_COUNT = 0;
const H_SUM_HIGH = 1;
const H_SUM_LOW = 2;
const H_MAX = 3;
const H_FIELDS = 4;
const EXACT: f64 = 2048;
const SUB = 64;
const EXACT_BITS = 11;
const LOW_UNIT: f64 = 1099511627776; // 2^40
const DENSE = 2048 + (40 - EXACT_BITS) * SUB;
const TWO_32: f64 = 4294967296;

/** JavaScript's Math.round: the nearest integer, halves up. */
@inline function roundHalfUp(x: f64): f64 {
  const r = Math.floor(x);
  return x - r >= 0.5 ? r + 1 : r;
}

/** The bucket of a value (histogram.ts Histogram.bucket). */
export function bucketOf(v: f64): i32 {
  if (v < EXACT) return <i32>Math.floor(v);
  // The power of two at or below v, exactly: 32 at a time, then the leading zeros of what is left.
  let e = 0;
  let x = v;
  while (x >= TWO_32) {
    x /= TWO_32;
    e += 32;
  }
  e += 31 - clz<u32>(<u32>x);
  // 2^e exactly, from its exponent bits.
  let sub = Math.floor((v / reinterpret<f64>(<u64>(e + 1023) << 52) - 1) * <f64>SUB);
  if (sub > <f64>(SUB - 1)) sub = <f64>(SUB - 1);
  return 2048 + (e - EXACT_BITS) * SUB + <i32>sub;
}

/** A histogram's cells: count, sum high, sum low, max, then the dense buckets. */
function newHistogram(): usize {
  return zeroed(<usize>(H_FIELDS + DENSE) << 3);
}

function histAdd(h: usize, v: f64): void {
  setF64(h, H_COUNT, f64At(h, H_COUNT) + 1);
  let low = f64At(h, H_SUM_LOW) + roundHalfUp(v * 1000);
  if (low >= LOW_UNIT) {
    const carry = Math.floor(low / LOW_UNIT);
    setF64(h, H_SUM_HIGH, f64At(h, H_SUM_HIGH) + carry);
    low -= carry * LOW_UNIT;
  }
  setF64(h, H_SUM_LOW, low);
  if (v > f64At(h, H_MAX)) setF64(h, H_MAX, v);
  const b = bucketOf(v);
  // A negative value's bucket counts nowhere, as a typed array ignores a write below its start.
  if (b >= DENSE) sparseJs(h, b);
  else if (b >= 0) setF64(h, H_FIELDS + b, f64At(h, H_FIELDS + b) + 1);
}

// ---- Banks (JavaScript's EngineBank holds one).

/** Scratch for the segments of the packet being given (JavaScript writes them here). */
let input: usize = 0;
let inputCapacity: i32 = 0;

/** Room for `n` segments in the input area; its address (it moves when it grows). */
export function inputArea(n: i32): usize {
  if (n > inputCapacity) {
    inputCapacity = n > 2 * inputCapacity ? n : 2 * inputCapacity;
    input = zeroed(<usize>inputCapacity << 3);
  }
  return input;
}

/** Segment `i` of the packet being given written into the input area (grown, its contents kept, when it has no room): the packet path's way in. */
export function inputSegment(i: i32, v: f64): void {
  if (i >= inputCapacity) {
    const old = input;
    const had = inputCapacity;
    inputArea(i + 1);
    memory.copy(input, old, <usize>had << 3);
  }
  setF64(input, i, v);
}

export function newBank(engines: i32, threads: i32, queueCapacity: i32, sink: i32): usize {
  return changetype<usize>(new Bank(engines, threads, queueCapacity, sink));
}

export function bankAdmit(bank: usize, e: i32, t: f64): bool {
  return changetype<Bank>(bank).admit(e, t);
}

/** False (and nothing given) when every thread and queue place is held. */
export function bankPush(bank: usize, e: i32, id: f64, arrival: f64, ready: f64, compute: f64, sleep: f64, egress: f64, n: i32): bool {
  return changetype<Bank>(bank).push(e, id, arrival, ready, compute, sleep, egress, input, n);
}

export function bankPushSaturated(bank: usize, e: i32, n: i32): void {
  changetype<Bank>(bank).pushSaturated(e, input, n);
}

export function bankRunTo(bank: usize, e: i32, t: f64): void {
  changetype<Bank>(bank).runTo(e, t);
}

export function bankFinish(bank: usize): void {
  changetype<Bank>(bank).finish();
}

export function bankBusy(bank: usize, e: i32): f64 {
  return f64At(changetype<Bank>(bank).ef(e), EF_BUSY);
}

export function bankAddBusy(bank: usize, e: i32, cycles: f64): void {
  const f = changetype<Bank>(bank).ef(e);
  setF64(f, EF_BUSY, f64At(f, EF_BUSY) + cycles);
}

export function bankCompleted(bank: usize, e: i32): f64 {
  return f64At(changetype<Bank>(bank).ef(e), EF_COMPLETED);
}

export function bankLastEnd(bank: usize, e: i32): f64 {
  return f64At(changetype<Bank>(bank).ef(e), EF_LAST_END);
}

/** Field `field` (S_ID … S_EGRESS) of the packet in `slot`. */
export function bankSlotField(bank: usize, slot: i32, field: i32): f64 {
  return f64At(changetype<Bank>(bank).slot(slot), field);
}

// ---- The card's timing (card-timing.ts CardTiming): one per instance.

let card: Bank | null = null;
let saturated: Bank | null = null;
let latencyNs: usize = 0;
let cyclesPerPacket: usize = 0;
let clockHz: f64 = 0;
let perPacket = false;
let dmaFixed: f64 = 0;
let cyclesPerByte: f64 = 0;
let pcieLatencyNs: f64 = 0;
let pcieMbps: f64 = 0;
let taken: f64 = 0;
let observed: f64 = 0;
let dmaBytes: f64 = 0;
let pcieBits: f64 = 0;
let lastEnd: f64 = 0;
let egressWire: f64 = 0;
let egressHost: f64 = 0;
let egressNone: f64 = 0;
let saturatedAll: f64 = 0;
let saturatedStride: f64 = 1;
/** The next observation past the first saturatedAll that the saturated engine takes (the next multiple of the stride): a count, not a division per packet. */
let nextSampled: f64 = 0;

/** The card's banks and histograms made; the DMA and PCIe prices and the capacity sample's rule (card-timing.ts). */
export function cardInit(engines: i32, threads: i32, queueCapacity: i32, hz: f64, keepPackets: bool, dmaCycles: f64, bytesPerCycle: f64,
  pcieNs: f64, pcieRate: f64, sampleAll: f64, sampleStride: f64): void {
  card = new Bank(engines, threads, queueCapacity, SINK_CARD);
  saturated = new Bank(1, threads, 0, SINK_NONE);
  latencyNs = newHistogram();
  cyclesPerPacket = newHistogram();
  clockHz = hz;
  perPacket = keepPackets;
  dmaFixed = dmaCycles;
  cyclesPerByte = 1 / bytesPerCycle;
  pcieLatencyNs = pcieNs;
  pcieMbps = pcieRate;
  saturatedAll = sampleAll;
  saturatedStride = sampleStride;
  nextSampled = Math.ceil(sampleAll / sampleStride) * sampleStride;
}

export function cardBank(): usize {
  return changetype<usize>(card);
}

export function saturatedBank(): usize {
  return changetype<usize>(saturated);
}

export function latencyHistogram(): usize {
  return latencyNs;
}

export function cyclesHistogram(): usize {
  return cyclesPerPacket;
}

/** A value added to the card's latency (0) or cycles-per-packet (1) histogram, as a completion or an observation adds one. */
export function cardRecord(which: i32, v: f64): void {
  histAdd(which == 0 ? latencyNs : cyclesPerPacket, v);
}

@inline function dmaCyclesOf(bytes: f64): f64 {
  return dmaFixed + bytes * cyclesPerByte;
}

@inline function pcieCyclesOf(bytes: f64): f64 {
  return ((pcieLatencyNs + (8 * bytes * 1000) / pcieMbps) * clockHz) / 1e9;
}

const EGRESS_WIRE = 0;
const EGRESS_HOST = 1;

/** Whether the card's engine takes a packet arriving at t (card-timing.ts admit). */
export function cardAdmit(engine: i32, t: f64): bool {
  return changetype<Bank>(card).admit(engine, t);
}

/**
 * A taken packet given to its engine (card-timing.ts toEngine), and, with `observe`, its
 * work to the capacity estimate as `cardObserve` takes it; its segments are in the input area.
 */
export function cardToEngine(engine: i32, id: f64, t: f64, inBytes: f64, n: i32, compute: f64, sleep: f64, egress: i32, outBytes: f64, observe: bool): bool {
  if (observe) cardObserve(n, compute);
  taken += 1;
  dmaBytes += inBytes + (egress == EGRESS_WIRE ? outBytes : 0);
  if (egress == EGRESS_HOST) pcieBits += 8 * outBytes;
  if (egress == EGRESS_WIRE) egressWire += 1;
  else if (egress == EGRESS_HOST) egressHost += 1;
  else egressNone += 1;
  const out = egress == EGRESS_WIRE ? dmaCyclesOf(outBytes) : egress == EGRESS_HOST ? dmaCyclesOf(outBytes) + pcieCyclesOf(outBytes) : 0;
  return changetype<Bank>(card).push(engine, id, t, t + dmaCyclesOf(inBytes), compute, sleep, out, input, n);
}

/** A taken packet's work for the capacity estimate (card-timing.ts observe, the sample of whole segments aside). */
export function cardObserve(n: i32, compute: f64): void {
  const k = observed;
  observed += 1;
  if (k >= nextSampled) nextSampled += saturatedStride;
  if (k < saturatedAll || k + saturatedStride == nextSampled) changetype<Bank>(saturated).pushSaturated(0, input, n);
  histAdd(cyclesPerPacket, compute);
}

function cardCompleted(b: Bank, engine: i32, slot: i32, thread: i32, start: f64, end: f64): void {
  const s = b.slot(slot);
  const leave = end + f64At(s, S_EGRESS);
  if (leave > lastEnd) lastEnd = leave;
  const ns = ((leave - f64At(s, S_ARRIVAL)) * 1e9) / clockHz;
  histAdd(latencyNs, ns);
  if (perPacket) tracedJs(f64At(s, S_ID), engine, thread, f64At(s, S_COMPUTE), f64At(s, S_SLEEP), ns, start - f64At(s, S_READY));
}

/** The card's totals: 0 taken, 1 observed, 2 DMA bytes, 3 PCIe bits, 4 last end, 5–7 egress wire, host, none. */
export function cardTotal(which: i32): f64 {
  switch (which) {
    case 0: return taken;
    case 1: return observed;
    case 2: return dmaBytes;
    case 3: return pcieBits;
    case 4: return lastEnd;
    case 5: return egressWire;
    case 6: return egressHost;
    default: return egressNone;
  }
}

/** Another run's totals added (card-timing.ts absorb). */
export function cardAbsorb(takenMore: f64, dmaMore: f64, pcieMore: f64, lastEndThere: f64, wire: f64, host: f64, none: f64): void {
  taken += takenMore;
  dmaBytes += dmaMore;
  pcieBits += pcieMore;
  if (lastEndThere > lastEnd) lastEnd = lastEndThere;
  egressWire += wire;
  egressHost += host;
  egressNone += none;
}

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
 * It runs once per simulated packet, so it runs as WebAssembly (the timing core,
 * assembly/timing-core.ts, class Bank, which carries out these rules step by step; its
 * state is a few arrays of every engine's and every packet slot's fields). `EngineBank`
 * is a bank of engines in a core of its own, or a view of a bank a card's core holds
 * (card-timing.ts); `EngineSim` is one engine on a bank of its own.
 */
import { XdpError } from '../../xdp/errors.js';
import type { WorkSegments } from './packet-meter.js';
import { SINK_JS, SLOT_ARRIVAL, SLOT_COMPUTE, SLOT_EGRESS, SLOT_ID, SLOT_READY, SLOT_SLEEP, TimingCore } from './timing-core.js';

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

/** The most bytes of state a bank takes (a profile's engines, threads and queue decide it); the core's memory is at most 4 GiB. */
const MAX_BANK_BYTES = 2 ** 31;
/** Segments a slot holds at first (the core's INITIAL_SEGMENTS), for the size check. */
const INITIAL_SEGMENTS = 9;

/** The simulator state a bank of `engines` takes, refused in one line when the core cannot hold it. */
export function checkBankSize(engines: number, threads: number, queueCapacity: number): void {
  const perEngine = threads + queueCapacity;
  const bytes = engines * (8 * (5 + 2 * threads) + 4 * (6 + 3 * threads) + 8 * perEngine * (7 + INITIAL_SEGMENTS) + 4 * (Math.max(queueCapacity, 1) + 2 * perEngine));
  if (!(bytes <= MAX_BANK_BYTES)) {
    throw new XdpError(`${engines} engines of ${threads} threads, each with a ${queueCapacity}-packet ingress queue, need ${(bytes / 2 ** 20).toFixed(0)} MiB of simulator state, ` +
      `more than the ${MAX_BANK_BYTES / 2 ** 20} MiB it takes (the profile's timing.cores, timing.threadsPerCore and timing.ingressQueue)`);
  }
}

export class EngineBank {
  private readonly core: TimingCore;
  private readonly bank: number;

  /** A bank of its own (its completions told to `done`), or, with `on`, a view of a bank a core already holds. */
  constructor(readonly engines: number, readonly threads: number, readonly queueCapacity: number, done: BankSink, on?: { readonly core: TimingCore; readonly bank: number }) {
    if (on) {
      this.core = on.core;
      this.bank = on.bank;
      return;
    }
    checkBankSize(engines, threads, queueCapacity);
    this.core = new TimingCore({ completed: (_bank, e, slot, thread, start, end) => done(e, slot, thread, start, end) });
    this.bank = this.core.x.newBank(engines, threads, queueCapacity, SINK_JS);
  }

  /** Cycles engine e computed (`addBusy`: another run's share of them). */
  busy(e: number): number {
    return this.core.x.bankBusy(this.bank, e);
  }

  addBusy(e: number, cycles: number): void {
    this.core.x.bankAddBusy(this.bank, e, cycles);
  }

  completed(e: number): number {
    return this.core.x.bankCompleted(this.bank, e);
  }

  /** Cycle engine e's last packet ended. */
  lastEnd(e: number): number {
    return this.core.x.bankLastEnd(this.bank, e);
  }

  /** A held packet's fields (in a completion: the packet that completed). */
  job(slot: number): JobFields {
    return { id: this.id(slot), arrival: this.arrival(slot), ready: this.ready(slot), compute: this.compute(slot), sleep: this.sleep(slot), egress: this.egress(slot) };
  }

  /** One field of a held packet, without making a record: its id, arrival, ready, compute, sleep, egress. */
  id(slot: number): number {
    return this.core.x.bankSlotField(this.bank, slot, SLOT_ID);
  }

  arrival(slot: number): number {
    return this.core.x.bankSlotField(this.bank, slot, SLOT_ARRIVAL);
  }

  ready(slot: number): number {
    return this.core.x.bankSlotField(this.bank, slot, SLOT_READY);
  }

  compute(slot: number): number {
    return this.core.x.bankSlotField(this.bank, slot, SLOT_COMPUTE);
  }

  sleep(slot: number): number {
    return this.core.x.bankSlotField(this.bank, slot, SLOT_SLEEP);
  }

  egress(slot: number): number {
    return this.core.x.bankSlotField(this.bank, slot, SLOT_EGRESS);
  }

  /**
   * Whether a packet arriving at cycle t (after every packet given to engine e so far)
   * finds a thread of the engine or room in its queue: certainly while fewer packets are
   * held than there is room for; otherwise the engine is run up to t to decide.
   */
  admit(e: number, t: number): boolean {
    return this.core.x.bankAdmit(this.bank, e, t) !== 0;
  }

  /**
   * Give engine e a packet `admit` said it has room for (its JobFields, in their order,
   * as numbers); its segments are `segs[0 … n)`, copied. It waits in the pending list.
   */
  push(e: number, id: number, arrival: number, ready: number, compute: number, sleep: number, egress: number, segs: WorkSegments, n = segs.length): void {
    this.core.writeSegments(segs, n);
    if (this.core.x.bankPush(this.bank, e, id, arrival, ready, compute, sleep, egress, n) === 0) {
      throw new RangeError(`engine ${e}: a packet pushed with every thread and queue place held (admit first)`);
    }
  }

  /**
   * Keep engine e saturated: run until a thread is free, then give it the packet's work
   * (ready the moment the thread is). The rate this reaches is the engine's capacity.
   */
  pushSaturated(e: number, segs: WorkSegments, n = segs.length): void {
    this.core.writeSegments(segs, n);
    this.core.x.bankPushSaturated(this.bank, e, n);
  }

  /** Engine e run up to cycle t now: its pending packets given their places, every segment that starts by t run, every packet that has ended by then let go. */
  runTo(e: number, t: number): void {
    this.core.x.bankRunTo(this.bank, e, t);
  }

  /** Run everything given so far to its end, on every engine. */
  finish(): void {
    this.core.x.bankFinish(this.bank);
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

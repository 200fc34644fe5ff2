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
 */
import type { WorkSegments } from './packet-meter.js';

export interface Job {
  /** The packet's index in the capture. */
  readonly id: number;
  /** Cycle its last bit arrived. */
  readonly arrival: number;
  /** Cycle it is in packet memory and a thread may start on it. */
  readonly ready: number;
  readonly segs: WorkSegments;
}

export interface Completion {
  readonly job: Job;
  readonly engine: number;
  readonly thread: number;
  /** Cycle its thread first ran it. */
  readonly start: number;
  /** Cycle its last compute segment ended. */
  readonly end: number;
}

export class EngineSim {
  /** Cycles the engine computed. */
  busy = 0;
  completed = 0;
  /** Cycle the last packet ended. */
  lastEnd = 0;
  private free = 0;
  private readonly jobs: (Job | undefined)[];
  /** Per thread: when its next segment may start, the segment's index, when its packet started. */
  private readonly at: Float64Array;
  private readonly seg: Int32Array;
  private readonly started: Float64Array;
  private queue: Job[] = [];
  private head = 0;

  constructor(
    readonly index: number,
    readonly threads: number,
    readonly queueCapacity: number,
    private readonly done: (c: Completion) => void,
  ) {
    this.jobs = new Array<Job | undefined>(threads).fill(undefined);
    this.at = new Float64Array(threads);
    this.seg = new Int32Array(threads);
    this.started = new Float64Array(threads);
  }

  /** Packets waiting in the ingress queue. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Whether a packet arriving at cycle t finds a thread or room in the queue (the engine is run up to t). */
  admit(t: number): boolean {
    this.advance(t);
    return this.idleThread() >= 0 || this.queued < this.queueCapacity;
  }

  /** Give the engine a packet `admit` said it has room for. */
  push(job: Job): void {
    const k = this.idleThread();
    if (k >= 0) this.assign(k, job, job.ready);
    else this.queue.push(job);
  }

  /** Run every segment that starts by cycle t, and let go of every packet that has ended by then. */
  advance(t: number): void {
    while (this.step(t)) { /* next event */ }
  }

  /** Run everything given so far to its end. */
  finish(): void {
    this.advance(Infinity);
  }

  /**
   * Keep the engine saturated: run until a thread is free, then give it the packet
   * (ready the moment the thread is). The rate this reaches is the engine's capacity.
   */
  pushSaturated(job: Job): void {
    for (;;) {
      const k = this.idleThread();
      if (k >= 0) {
        this.assign(k, job, Math.max(this.at[k]!, 0));
        return;
      }
      this.step(Infinity);
    }
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
      const job = this.jobs[n];
      if (job === undefined) continue;
      const at = this.at[n]!;
      if (this.seg[n]! >= job.segs.length) {
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
  private idleThread(): number {
    for (let k = 0; k < this.threads; k++) if (this.jobs[k] === undefined) return k;
    return -1;
  }

  private assign(k: number, job: Job, ready: number): void {
    this.jobs[k] = job;
    this.at[k] = ready;
    this.seg[k] = 0;
  }

  private runSegment(k: number, s: number): void {
    const job = this.jobs[k]!;
    const i = this.seg[k]!;
    if (i === 0) this.started[k] = s;
    const end = s + job.segs[i]!;
    this.busy += job.segs[i]!;
    this.free = end;
    // After a compute segment: the sleep that follows (if any) until the next; after the last, the end.
    const sleep = i + 1 < job.segs.length ? job.segs[i + 1]! : 0;
    this.at[k] = end + sleep;
    this.seg[k] = i + 2;
  }

  /** A packet has ended: its thread is free and takes the next queued packet. */
  private release(k: number): void {
    const job = this.jobs[k]!;
    const end = this.at[k]!;
    this.completed++;
    this.lastEnd = end;
    this.jobs[k] = undefined;
    this.done({ job, engine: this.index, thread: k, start: this.started[k]!, end });
    if (this.queued > 0) {
      const next = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.assign(k, next, Math.max(end, next.ready));
    }
  }
}

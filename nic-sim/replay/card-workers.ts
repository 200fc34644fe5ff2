/**
 * A card replay spread over worker threads (`offload run --workers N`): the main
 * thread reads the capture, times each frame's arrival and picks its RSS queue; the
 * packets of queue q go to worker q mod N (card-worker.ts), which owns those queues'
 * engines, runs the packets on its own copy of the card and times them. Outcomes come
 * back per batch and are taken in capture order, and the main thread feeds every
 * packet's work to the capacity estimate in that order — so that, for an image
 * shard.ts accepts, everything the replay reports is what one card gives. At the end
 * the workers' totals, hot spots and map memories are added together (map memory by
 * summing each worker's adds, shard.ts mergeAdds).
 *
 * Batches go out and come back in order, two at a time (the replay's BATCHES_IN_FLIGHT):
 * while the workers run one, the main thread reads and sends the next. Packets and
 * outcomes travel packed in typed arrays whose buffers are transferred (worker-batch.ts).
 * The main thread waits for replies on a shared counter (Atomics.wait) and takes them
 * with receiveMessageOnPort, so the replay stays one synchronous loop.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { CardProfile } from '../../caps/profile.js';
import { XdpError } from '../../xdp/errors.js';
import type { CaptureRecord } from '../../xdp/pcap/capture-record.js';
import type { BatchOutcomes, PacketEngine } from '../../xdp/replay/replay.js';
import type { PacketResult } from '../../xdp/runtime/xdp-machine.js';
import type { CardImage } from '../image/index.js';
import type { EngineTotals } from '../timing/card-timing.js';
import { CardEngine, ReusedResult, type CardEngineOptions } from './card-engine.js';
import type { WorkerSetup } from './card-worker.js';
import { DROPPED_FULL_QUEUE, PacketBatchBuilder, buffersOf, type OutcomeBatch } from './worker-batch.js';
import { mergeAdds } from './shard.js';

/** The worker's script: beside this module once built; from the build when this module runs as TypeScript (tests). */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.ts') ? resolve(dirname(here), '..', '..', 'dist', 'nic-sim', 'replay', 'card-worker.js') : resolve(dirname(here), 'card-worker.js');
  if (!existsSync(js)) throw new XdpError(`the worker script ${js} is missing: build the project (npm run build)`);
  return js;
}

interface BatchReply {
  readonly outcomes: OutcomeBatch;
  readonly done: readonly [number, Record<string, number>][];
  readonly error?: string;
}

interface FinishReply {
  readonly totals: EngineTotals;
  readonly done: readonly [number, Record<string, number>][];
  readonly emem: Uint8Array;
  readonly pcCycles: Float64Array;
  readonly pcSleep: Float64Array;
  readonly error?: string;
}

export interface CardWorkersOptions extends CardEngineOptions {
  readonly workers: number;
  readonly seed: number;
  /** The width of the image's adds to map memory, when it has any (shard.ts). */
  readonly addWidth?: 4 | 8;
}

/** Packet k's bytes in a worker's outcomes (one, pointed at each packet in turn). */
class OutcomeBytes {
  o: OutcomeBatch | undefined;
  k = 0;

  bytes(): Uint8Array {
    const o = this.o!;
    return o.bytes.subarray(o.offset[this.k]!, o.offset[this.k + 1]!);
  }
}

export class CardWorkers implements PacketEngine {
  /** The card as the main thread keeps it: arrivals, capacity, the maps and the totals at the end. */
  readonly main: CardEngine;
  private pool: { worker: Worker; port: MessagePort }[] = [];
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly timings = new Map<number, Record<string, number>>();
  /** Batches sent and not yet collected, oldest first: where each packet went (worker, position; −1: dropped before, why), and which workers got a part. */
  private readonly out: { where: Int32Array; early: Map<number, string>; asked: boolean[] }[] = [];
  /** The result collectBatch hands out, refilled for each packet, and where its bytes are. */
  private readonly result = new ReusedResult();
  private readonly resultBytes = new OutcomeBytes();

  constructor(private readonly imageBytes: Uint8Array, image: CardImage, private readonly profile: CardProfile, private readonly opts: CardWorkersOptions) {
    this.main = new CardEngine(image, profile, opts);
  }

  submitBatch(recs: readonly CaptureRecord[]): void {
    this.start();
    const n = this.pool.length;
    const lists = this.pool.map(() => new PacketBatchBuilder());
    // Per packet: its worker and its position there (worker −1: dropped before, `early` says why).
    const where = new Int32Array(2 * recs.length);
    const early = new Map<number, string>();
    recs.forEach((rec, j) => {
      const engine = this.main.arriveFrame(rec);
      if (typeof engine === 'string') {
        early.set(j, engine);
        where[2 * j] = -1;
        return;
      }
      const w = engine % n;
      where[2 * j] = w;
      where[2 * j + 1] = lists[w]!.count;
      lists[w]!.add(rec.index, rec.data, engine, this.main.timing.lastArrival, rec.origLen);
    });
    const asked = lists.map((b, w) => {
      if (b.count === 0) return false;
      const batch = b.build();
      this.pool[w]!.worker.postMessage({ kind: 'batch', batch }, buffersOf(batch));
      return true;
    });
    this.out.push({ where, early, asked });
  }

  collectBatch(): BatchOutcomes {
    const sent = this.out.shift();
    if (sent === undefined) throw new Error('CardWorkers: no batch to collect');
    const replies = sent.asked.map((asked, w) => (asked ? this.receive<BatchReply>(w) : undefined));
    for (const r of replies) if (r) for (const [i, t] of r.done) this.timings.set(i, t);
    const errors = replies.map((r) => new Map(r?.outcomes.errors ?? []));
    const { where, early } = sent;
    // The capacity estimate takes every packet's work, in capture order.
    for (let j = 0; 2 * j < where.length; j++) {
      const w = where[2 * j]!;
      if (w < 0) continue;
      const o = replies[w]!.outcomes;
      const k = where[2 * j + 1]!;
      if (o.action[k] === DROPPED_FULL_QUEUE) continue;
      const from = o.segOffset[k]!;
      const count = o.segOffset[k + 1]! - from;
      this.main.timing.observe(o.segs.subarray(from, from + count), count, o.compute[k]!);
    }
    const result = this.result;
    const at = this.resultBytes;
    return {
      dropped: (j) => {
        const w = where[2 * j]!;
        if (w < 0) return early.get(j);
        return replies[w]!.outcomes.action[where[2 * j + 1]!] === DROPPED_FULL_QUEUE ? 'ingress_overflow' : undefined;
      },
      result: (j) => {
        const w = where[2 * j]!;
        const o = replies[w]!.outcomes;
        at.o = o;
        at.k = where[2 * j + 1]!;
        return result.set(o.action[at.k]!, o.offset[at.k + 1]! - o.offset[at.k]!, errors[w]!.get(at.k), at);
      },
    };
  }

  run(): PacketResult {
    throw new Error('CardWorkers takes packets in batches (submitBatch, collectBatch)');
  }

  traceFields(index: number): Record<string, unknown> | undefined {
    const t = this.timings.get(index);
    if (t !== undefined) this.timings.delete(index);
    return t;
  }

  finish(): void {
    this.start();
    for (const { worker } of this.pool) worker.postMessage({ kind: 'finish' });
    const replies = this.pool.map((_, w) => this.receive<FinishReply>(w));
    // The main thread's own engines are idle; its saturated engine (the capacity estimate) runs out.
    this.main.timing.finish();
    const maps = this.main.card.maps;
    const initial = maps.emem.slice();
    for (const r of replies) {
      this.main.timing.absorb(r!.totals);
      for (const [i, t] of r!.done) this.timings.set(i, t);
      r!.pcCycles.forEach((c, pc) => (this.main.meter.pcCycles[pc]! += c));
      r!.pcSleep.forEach((c, pc) => (this.main.meter.pcSleep[pc]! += c));
    }
    // Without adds every worker's maps are the starting ones; with them, each worker's adds summed.
    if (this.opts.addWidth) maps.emem.set(mergeAdds(initial, replies.map((r) => r!.emem), this.opts.addWidth));
    this.close();
  }

  close(): void {
    for (const { worker, port } of this.pool) {
      port.close();
      void worker.terminate();
    }
    this.pool = [];
  }

  /** Workers start at the first batch, with the maps as they are then (after --maps-in). */
  private start(): void {
    if (this.pool.length > 0) return;
    const script = workerScript();
    for (let w = 0; w < this.opts.workers; w++) {
      const { port1, port2 } = new MessageChannel();
      const setup: WorkerSetup = {
        image: this.imageBytes, profile: this.profile, file: this.opts.file, seed: this.opts.seed, perPacket: this.opts.perPacket ?? false,
        emem: this.main.card.maps.emem, port: port2, signal: this.signal,
        ...(this.opts.load ? { load: this.opts.load } : {}), ...(this.opts.engines ? { engines: this.opts.engines } : {}), ...(this.opts.threads ? { threads: this.opts.threads } : {}),
      };
      const worker = new Worker(script, { workerData: setup, transferList: [port2] });
      worker.unref();
      this.pool.push({ worker, port: port1 });
    }
  }

  /** Worker w's next reply (each worker answers its messages in order), waiting for it if need be. */
  private receive<R extends { error?: string }>(w: number): R {
    for (;;) {
      const seen = Atomics.load(this.signal, 0);
      const r = receiveMessageOnPort(this.pool[w]!.port)?.message as R | undefined;
      if (r !== undefined) {
        if (r.error) throw new XdpError(`card worker ${w}: ${r.error}`);
        return r;
      }
      // Woken by any worker's reply (the counter moves), or at once if one came since `seen`.
      if (Atomics.wait(this.signal, 0, seen, 60_000) === 'timed-out') throw new XdpError(`card worker ${w} did not answer within a minute`);
    }
  }
}

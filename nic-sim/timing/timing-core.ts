/**
 * The engine model's WebAssembly core (built from nic-sim/timing/assembly/timing-core.ts
 * by `npm run build` into dist/wasm/timing-core.wasm) loaded, and what JavaScript
 * needs to talk to it: the segments of the packet being given written into its input
 * area, its histograms read out of its memory. Each `TimingCore` is an instance of its
 * own (its own memory), so banks never share state.
 */
import { XdpError } from '../../xdp/errors.js';
import type { WorkSegments } from './packet-meter.js';
import { wasmModule } from './wasm-module.js';

/** What the core exports (see the AssemblyScript source for each one's meaning). */
export interface TimingCoreExports {
  readonly memory: WebAssembly.Memory;
  inputArea(n: number): number;
  inputSegment(i: number, v: number): void;
  bucketOf(v: number): number;
  newBank(engines: number, threads: number, queueCapacity: number, sink: number): number;
  bankAdmit(bank: number, e: number, t: number): number;
  bankPush(bank: number, e: number, id: number, arrival: number, ready: number, compute: number, sleep: number, egress: number, n: number): number;
  bankPushSaturated(bank: number, e: number, n: number): void;
  bankRunTo(bank: number, e: number, t: number): void;
  bankFinish(bank: number): void;
  bankBusy(bank: number, e: number): number;
  bankAddBusy(bank: number, e: number, cycles: number): void;
  bankCompleted(bank: number, e: number): number;
  bankLastEnd(bank: number, e: number): number;
  bankSlotField(bank: number, slot: number, field: number): number;
  cardInit(engines: number, threads: number, queueCapacity: number, hz: number, keepPackets: number, dmaCycles: number, bytesPerCycle: number,
    pcieNs: number, pcieRate: number, sampleAll: number, sampleStride: number): void;
  cardBank(): number;
  saturatedBank(): number;
  latencyHistogram(): number;
  cyclesHistogram(): number;
  cardAdmit(engine: number, t: number): number;
  cardRecord(which: number, v: number): void;
  cardToEngine(engine: number, id: number, t: number, inBytes: number, n: number, compute: number, sleep: number, egress: number, outBytes: number, observe: number): number;
  cardObserve(n: number, compute: number): void;
  cardTotal(which: number): number;
  cardAbsorb(taken: number, dma: number, pcie: number, lastEnd: number, wire: number, host: number, none: number): void;
}

/** Where a bank's finished packets go: to JavaScript (`completed`), to the card's totals, or nowhere. */
export const SINK_JS = 0;
export const SINK_CARD = 1;
/** A slot's fields as `bankSlotField` numbers them. */
export const SLOT_ID = 0;
export const SLOT_ARRIVAL = 1;
export const SLOT_READY = 2;
export const SLOT_COMPUTE = 3;
export const SLOT_SLEEP = 4;
export const SLOT_EGRESS = 5;
/** A histogram's cells in the core's memory: count, sum high, sum low, max, then its dense buckets. */
export const HISTOGRAM_FIELDS = 4;

/** What JavaScript is told by the core. */
export interface TimingCoreSinks {
  completed?(bank: number, engine: number, slot: number, thread: number, start: number, end: number): void;
  traced?(id: number, engine: number, thread: number, cycles: number, sleep: number, latencyNs: number, queued: number): void;
  sparse?(hist: number, bucket: number): void;
}

/** An AssemblyScript string in `memory` at `ptr` (UTF-16, its byte length just before it). */
function stringAt(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

export class TimingCore {
  readonly x: TimingCoreExports;
  private segs = new Float64Array(0);
  private segsAt = -1;

  constructor(sinks: TimingCoreSinks = {}) {
    let memory: WebAssembly.Memory | undefined;
    const instance = new WebAssembly.Instance(wasmModule('timing-core.wasm'), {
      env: {
        completed: sinks.completed ?? (() => {}),
        traced: sinks.traced ?? (() => {}),
        sparse: sinks.sparse ?? (() => {}),
        // The core's heap cannot grow (WebAssembly's 4 GiB, or the machine's memory): it stops with this.
        abort: (msg: number, file: number, line: number, col: number) => {
          throw new XdpError(`the simulator's engine state outgrew the memory it can have (WebAssembly's 4 GiB at most): ${stringAt(memory!, msg) || 'out of memory'} (${stringAt(memory!, file)}:${line}:${col})`);
        },
      },
    });
    this.x = instance.exports as unknown as TimingCoreExports;
    memory = this.x.memory;
  }

  /** `segs[0 … n)` written into the input area, where the next bank call reads them. */
  writeSegments(segs: WorkSegments, n: number): void {
    // The area moves when it grows (the packet path grows it too, from WebAssembly), and a view goes
    // stale (length 0, less than n) when the core's memory grows: the view is made again when either happened.
    const at = this.x.inputArea(n);
    let v = this.segs;
    if (at !== this.segsAt || v.length < n) {
      this.segsAt = at;
      v = this.segs = new Float64Array(this.x.memory.buffer, at, n);
    }
    for (let i = 0; i < n; i++) v[i] = segs[i]!;
  }

  /** `length` doubles of the core's memory from `ptr` (a fresh view: valid until the memory next grows). */
  f64s(ptr: number, length: number): Float64Array {
    return new Float64Array(this.x.memory.buffer, ptr, length);
  }
}

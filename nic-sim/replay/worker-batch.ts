/**
 * The messages of a sharded card replay (card-workers.ts ↔ card-worker.ts) in packed
 * form: a batch of packets, and what the worker made of each, as typed arrays whose
 * buffers are transferred, not cloned — an object per packet would cost the main
 * thread more to send and take than running the packet costs a worker.
 */

/** Packets for a worker: packet k's bytes are `bytes[offset[k] … offset[k+1])`. */
export interface PacketBatch {
  readonly count: number;
  /** Its index in the capture, the engine RSS gave it, its arrival cycle and length on the wire. */
  readonly index: Float64Array;
  readonly engine: Int32Array;
  readonly t: Float64Array;
  readonly origLen: Float64Array;
  readonly offset: Int32Array;
  readonly bytes: Uint8Array;
}

/**
 * What a worker made of each packet of a batch: its XDP action, or DROPPED_FULL_QUEUE;
 * the packet as the program left it (`bytes[offset[k] … offset[k+1])`); its compute cycles
 * and work segments (`segs[segOffset[k] … segOffset[k+1])`); the runs that failed, by
 * position in the batch.
 */
export interface OutcomeBatch {
  readonly action: Int32Array;
  readonly offset: Int32Array;
  readonly bytes: Uint8Array;
  readonly compute: Float64Array;
  readonly segOffset: Int32Array;
  readonly segs: Float64Array;
  readonly errors: readonly (readonly [number, string])[];
}

/** The action of a packet its engine's full ingress queue refused. */
export const DROPPED_FULL_QUEUE = -1;

/** The buffers a message of these holds (to transfer with it). */
export function buffersOf(b: PacketBatch | OutcomeBatch): ArrayBuffer[] {
  const views = 'count' in b ? [b.index, b.engine, b.t, b.origLen, b.offset, b.bytes] : [b.action, b.offset, b.bytes, b.compute, b.segOffset, b.segs];
  return views.map((v) => v.buffer as ArrayBuffer);
}

/** Bytes appended to a growing buffer. */
class Bytes {
  buf = new Uint8Array(1 << 16);
  used = 0;

  add(data: Uint8Array): void {
    if (this.used + data.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(2 * this.buf.length, this.used + data.length));
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    this.buf.set(data, this.used);
    this.used += data.length;
  }

  /** The bytes in a buffer of their own (the one to transfer). */
  take(): Uint8Array {
    return this.buf.slice(0, this.used);
  }
}

/** A PacketBatch, packet by packet. */
export class PacketBatchBuilder {
  private readonly index: number[] = [];
  private readonly engine: number[] = [];
  private readonly t: number[] = [];
  private readonly origLen: number[] = [];
  private readonly offset: number[] = [0];
  private readonly bytes = new Bytes();

  get count(): number {
    return this.index.length;
  }

  add(index: number, data: Uint8Array, engine: number, t: number, origLen: number): void {
    this.index.push(index);
    this.engine.push(engine);
    this.t.push(t);
    this.origLen.push(origLen);
    this.bytes.add(data);
    this.offset.push(this.bytes.used);
  }

  build(): PacketBatch {
    return {
      count: this.index.length, index: Float64Array.from(this.index), engine: Int32Array.from(this.engine), t: Float64Array.from(this.t),
      origLen: Float64Array.from(this.origLen), offset: Int32Array.from(this.offset), bytes: this.bytes.take(),
    };
  }
}

/** An OutcomeBatch for `count` packets, packet by packet in order. */
export class OutcomeBatchBuilder {
  private readonly action: Int32Array;
  private readonly offset: Int32Array;
  private readonly compute: Float64Array;
  private readonly segOffset: Int32Array;
  private segs = new Float64Array(1024);
  private segsUsed = 0;
  private readonly bytes = new Bytes();
  private readonly errors: [number, string][] = [];
  private k = 0;

  constructor(count: number) {
    this.action = new Int32Array(count);
    this.offset = new Int32Array(count + 1);
    this.compute = new Float64Array(count);
    this.segOffset = new Int32Array(count + 1);
  }

  /** The next packet, refused by its engine's full queue. */
  dropped(): void {
    this.next(DROPPED_FULL_QUEUE);
  }

  /** The next packet, run: its action, bytes, error, compute cycles and segments `segs[0 … n)`. */
  ran(action: number, bytes: Uint8Array, error: string | undefined, compute: number, segs: ArrayLike<number>, n: number): void {
    if (error !== undefined) this.errors.push([this.k, error]);
    this.bytes.add(bytes);
    if (this.segsUsed + n > this.segs.length) {
      const grown = new Float64Array(Math.max(2 * this.segs.length, this.segsUsed + n));
      grown.set(this.segs.subarray(0, this.segsUsed));
      this.segs = grown;
    }
    for (let i = 0; i < n; i++) this.segs[this.segsUsed + i] = segs[i]!;
    this.segsUsed += n;
    this.compute[this.k] = compute;
    this.next(action);
  }

  build(): OutcomeBatch {
    return {
      action: this.action, offset: this.offset, bytes: this.bytes.take(), compute: this.compute, segOffset: this.segOffset,
      segs: this.segs.slice(0, this.segsUsed), errors: this.errors,
    };
  }

  private next(action: number): void {
    this.action[this.k] = action;
    this.k++;
    this.offset[this.k] = this.bytes.used;
    this.segOffset[this.k] = this.segsUsed;
  }
}

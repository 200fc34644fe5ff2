/**
 * BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): a byte ring of max_entries
 * bytes shared by every CPU. A record takes round_up(size + 8, 8) bytes (an
 * 8-byte header, then the data); the producer may run at most ring-size - 1
 * bytes ahead of the consumer.
 *
 * - reserve(size, flags): the record's data as a pointer into the ring, or
 *   undefined (NULL) when flags != 0, size > RINGBUF_MAX_RECORD_SZ, the record
 *   is larger than the ring, or there is no room (bpf_ringbuf_reserve).
 * - commit(ref, discard): bpf_ringbuf_submit / bpf_ringbuf_discard.
 * - output(data, flags): bpf_ringbuf_output: flags other than
 *   BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP -EINVAL, no room -EAGAIN.
 * - reserveDynptr(size, flags): bpf_ringbuf_reserve_dynptr: -EINVAL for flags,
 *   -E2BIG beyond DYNPTR_MAX_SIZE, -EAGAIN for no room.
 * - query(flag): bpf_ringbuf_query.
 * - records(): the submitted records a consumer would read now (in order, up to
 *   the first record still reserved; discarded ones skipped); consume() reads
 *   them and frees their space, as user space's ring_buffer__consume does.
 *   Nothing consumes on its own: as in the kernel, a ring nobody reads fills up.
 *
 * The ring is one RINGBUF region of twice the ring size, so a record that wraps
 * past the end is contiguous, as the kernel's double mapping of the data pages
 * makes it. lookup/update/delete are not supported (-ENOTSUPP / NULL).
 */
import type { MapDef } from '../object/bpf-object.js';
import type { Region } from '../runtime/memory.js';
import { RegionKind } from '../runtime/memory.js';
import { Errno, type MapEnv, type ValueRef } from './bpf-map.js';
import { MapBase } from './map-base.js';
import { roundUp8 } from './map-validate.js';

/** RINGBUF_MAX_RECORD_SZ = UINT_MAX / 4. */
export const RINGBUF_MAX_RECORD_SZ = Math.floor(0xffffffff / 4);
export const BPF_RINGBUF_HDR_SZ = 8;
/** DYNPTR_MAX_SIZE (include/linux/bpf.h): a dynptr's size field is 24 bits. */
export const DYNPTR_MAX_SIZE = (1 << 24) - 1;
const BPF_RINGBUF_BUSY_BIT = 0x80000000;
const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
/** enum { BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2 } */
export const RingbufFlag = { NO_WAKEUP: 1, FORCE_WAKEUP: 2 } as const;
/** bpf_ringbuf_query flags. */
export const RingbufQuery = { AVAIL_DATA: 0, RING_SIZE: 1, CONS_POS: 2, PROD_POS: 3 } as const;

interface RecordSlot {
  readonly pos: number;
  /** Bytes taken in the ring (header included, rounded to 8). */
  readonly len: number;
  readonly size: number;
  state: 'busy' | 'submitted' | 'discarded';
  data?: Uint8Array;
}

export class RingBufMap extends MapBase {
  readonly ringSize: number;
  readonly region: Region;
  private producer = 0;
  private consumer = 0;
  /** Records between the consumer and the producer, oldest first. */
  private pending: RecordSlot[] = [];

  constructor(def: MapDef, env: MapEnv) {
    super(def, env);
    this.ringSize = def.maxEntries;
    this.region = env.memory.add(RegionKind.RINGBUF, new Uint8Array(2 * this.ringSize), { map: def.index });
  }

  reserve(size: number, flags: number): ValueRef | undefined {
    if (flags !== 0) return undefined;
    if (!(Number.isInteger(size) && size >= 0) || size > RINGBUF_MAX_RECORD_SZ) return undefined;
    const len = roundUp8(size + BPF_RINGBUF_HDR_SZ);
    if (len > this.ringSize) return undefined;
    if (this.producer + len - this.consumer > this.ringSize - 1) return undefined;
    const pos = this.producer;
    const at = pos % this.ringSize;
    this.region.view.setUint32(at, (size | BPF_RINGBUF_BUSY_BIT) >>> 0, this.le);
    this.region.view.setUint32(at + 4, 0, this.le);
    this.producer += len;
    this.pending.push({ pos, len, size, state: 'busy' });
    return { region: this.region, offset: at + BPF_RINGBUF_HDR_SZ };
  }

  /** bpf_ringbuf_reserve_dynptr: the record, or -errno. */
  reserveDynptr(size: number, flags: number): ValueRef | number {
    if (flags !== 0) return -Errno.EINVAL;
    if (size > DYNPTR_MAX_SIZE) return -Errno.E2BIG;
    return this.reserve(size, 0) ?? -Errno.EAGAIN;
  }

  /** Submit (or discard) a reserved record; -EINVAL when `ref` is not a record still reserved. */
  commit(ref: ValueRef, discard: boolean): number {
    if (ref.region !== this.region) return -Errno.EINVAL;
    const rec = this.pending.find((r) => r.state === 'busy' && (r.pos % this.ringSize) + BPF_RINGBUF_HDR_SZ === ref.offset);
    if (rec === undefined) return -Errno.EINVAL;
    const at = rec.pos % this.ringSize;
    rec.state = discard ? 'discarded' : 'submitted';
    this.region.view.setUint32(at, (rec.size | (discard ? BPF_RINGBUF_DISCARD_BIT : 0)) >>> 0, this.le);
    if (!discard) rec.data = this.region.bytes.slice(at + BPF_RINGBUF_HDR_SZ, at + BPF_RINGBUF_HDR_SZ + rec.size);
    return 0;
  }

  output(data: Uint8Array, flags: number): number {
    if ((flags & ~(RingbufFlag.NO_WAKEUP | RingbufFlag.FORCE_WAKEUP)) !== 0 || flags < 0) return -Errno.EINVAL;
    const ref = this.reserve(data.length, 0);
    if (ref === undefined) return -Errno.EAGAIN;
    ref.region.bytes.set(data, ref.offset);
    return this.commit(ref, false);
  }

  query(flag: number): number {
    switch (flag) {
      case RingbufQuery.AVAIL_DATA: return this.producer - this.consumer;
      case RingbufQuery.RING_SIZE: return this.ringSize;
      case RingbufQuery.CONS_POS: return this.consumer;
      case RingbufQuery.PROD_POS: return this.producer;
      default: return 0;
    }
  }

  /** Records a consumer would read now: submitted ones in order, up to the first still reserved. */
  records(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const r of this.pending) {
      if (r.state === 'busy') break;
      if (r.state === 'submitted') out.push(r.data!.slice());
    }
    return out;
  }

  /** Read the available records and free their space. */
  consume(): Uint8Array[] {
    const out = this.records();
    let n = 0;
    for (const r of this.pending) {
      if (r.state === 'busy') break;
      this.consumer = r.pos + r.len;
      n++;
    }
    this.pending = this.pending.slice(n);
    return out;
  }

  override update(): number {
    return -Errno.ENOTSUPP;
  }
  override delete(): number {
    return -Errno.ENOTSUPP;
  }
  override write(): number {
    return -Errno.ENOTSUPP;
  }
}

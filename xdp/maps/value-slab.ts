/**
 * Where map values live: slots of round_up(value_size, 8) bytes (the kernel's
 * elem_size, so every value is 8-byte aligned) inside MAP_VALUE regions of the
 * engine's Memory, so that a program reaches a value through a pointer
 * (region id, byte offset). Slots are grouped into chunks of at most 64 KiB,
 * one region per chunk (and per CPU for per-CPU maps), allocated when first
 * touched: a 1M-entry hash costs nothing until the program fills it.
 *
 * A hash's slots are handed out by a SlotAllocator: never-used slots first,
 * then freed ones in the order they were freed (first in, first out), so a
 * value that was deleted or replaced keeps its bytes for as long as possible
 * before its storage is reused. That is the host's stand-in for the kernel's
 * RCU grace period (see docs/maps.md).
 */
import type { Memory, Region } from '../runtime/memory.js';
import { RegionKind } from '../runtime/memory.js';
import type { ValueRef } from './bpf-map.js';
import { roundUp8 } from './map-validate.js';

/** Target bytes per region. */
const CHUNK_BYTES = 64 << 10;

export interface SlabOptions {
  readonly memory: Memory;
  /** The map's index (recorded on every region). */
  readonly map: number;
  readonly valueSize: number;
  /** Number of slots. */
  readonly capacity: number;
  /** Copies of every slot: the CPU count for per-CPU maps, else 1. */
  readonly copies: number;
  /** Can the program store into the values (false for BPF_F_RDONLY_PROG maps)? */
  readonly writable: boolean;
}

export class ValueSlab {
  readonly valueSize: number;
  /** round_up(value_size, 8). */
  readonly stride: number;
  readonly capacity: number;
  readonly copies: number;
  private readonly chunkSlots: number;
  /** chunks[copy][chunk index] */
  private readonly chunks: (Region | undefined)[][];

  constructor(private readonly opts: SlabOptions) {
    this.valueSize = opts.valueSize;
    this.stride = Math.max(8, roundUp8(opts.valueSize));
    this.capacity = opts.capacity;
    this.copies = opts.copies;
    this.chunkSlots = Math.max(1, Math.min(opts.capacity, Math.floor(CHUNK_BYTES / this.stride)));
    this.chunks = Array.from({ length: opts.copies }, () => []);
  }

  private region(slot: number, copy: number): Region {
    const c = Math.floor(slot / this.chunkSlots);
    const perCopy = this.chunks[copy]!;
    let r = perCopy[c];
    if (r === undefined) {
      const slots = Math.min(this.chunkSlots, this.capacity - c * this.chunkSlots);
      r = this.opts.memory.add(RegionKind.MAP_VALUE, new Uint8Array(slots * this.stride), {
        writable: this.opts.writable,
        map: this.opts.map,
      });
      perCopy[c] = r;
    }
    return r;
  }

  private check(slot: number, copy: number): void {
    if (!(slot >= 0 && slot < this.capacity && Number.isInteger(slot)) || !(copy >= 0 && copy < this.copies && Number.isInteger(copy))) {
      throw new RangeError(`value slot ${slot} copy ${copy} outside ${this.capacity} slots x ${this.copies} copies`);
    }
  }

  /** The pointer a program gets for slot `slot` (CPU `copy`). */
  ref(slot: number, copy = 0): ValueRef {
    this.check(slot, copy);
    return { region: this.region(slot, copy), offset: (slot % this.chunkSlots) * this.stride };
  }

  /** Do all slots of a copy live in one region (value i at offset i * stride)? */
  singleRegion(): boolean {
    return this.chunkSlots >= this.capacity;
  }

  /** ref() without the allocation: out[0] = offset, out[1] = region id. */
  locate(slot: number, copy: number, out: Int32Array): void {
    const r = this.chunks[copy]![Math.floor(slot / this.chunkSlots)] ?? this.region(slot, copy);
    out[0] = (slot % this.chunkSlots) * this.stride;
    out[1] = r.id;
  }

  /** The live value bytes (value_size of them), not a copy. */
  view(slot: number, copy = 0): Uint8Array {
    const { region, offset } = this.ref(slot, copy);
    return region.bytes.subarray(offset, offset + this.valueSize);
  }

  /** A copy of the value. */
  read(slot: number, copy = 0): Uint8Array {
    return this.view(slot, copy).slice();
  }

  /** Store `data` (value_size bytes) into the slot. */
  write(slot: number, copy: number, data: Uint8Array): void {
    this.view(slot, copy).set(data.subarray(0, this.valueSize));
  }

  zero(slot: number, copy = 0): void {
    this.view(slot, copy).fill(0);
  }
}

/** Hands out slot numbers: never-used ones first, then freed ones first-in first-out. */
export class SlotAllocator {
  private next = 0;
  private readonly freed: number[] = [];
  private head = 0;

  constructor(readonly capacity: number) {}

  /** A free slot, or -1 when every slot is in use. */
  alloc(): number {
    if (this.next < this.capacity) return this.next++;
    if (this.head < this.freed.length) {
      const slot = this.freed[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.freed.length) {
        this.freed.splice(0, this.head);
        this.head = 0;
      }
      return slot;
    }
    return -1;
  }

  free(slot: number): void {
    this.freed.push(slot);
  }

  /** Slots in use. */
  get used(): number {
    return this.next - (this.freed.length - this.head);
  }
}

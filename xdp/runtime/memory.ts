/**
 * The address space a BPF program sees when it runs on the host. A 64-bit
 * pointer is a pair of 32-bit words (the engines keep every register that way:
 * V8 runs int32 arithmetic at native speed, BigInt at a seventh of it — see
 * DESIGN.md): the high word names a region, the low word is the byte offset in
 * it. Regions are the stack, the packet buffer, the context, map values, map
 * handles and ring buffers. Region id 0 is never allocated, so the pair (0, 0)
 * is NULL and a scalar never names a region by accident unless its high word
 * does.
 *
 * Every access goes through `resolve`: a region lookup by index and a bounds
 * check against the region's live window [lo, hi), so an unverified program
 * that strays gets a clear error, never a crash or a read of another region.
 */

export const RegionKind = {
  STACK: 1,
  PACKET: 2,
  CTX: 3,
  MAP_VALUE: 4,
  MAP_HANDLE: 5,
  RINGBUF: 6,
} as const;
export type RegionKindValue = (typeof RegionKind)[keyof typeof RegionKind];

export const REGION_KIND_NAMES: Readonly<Record<number, string>> = {
  1: 'stack', 2: 'packet', 3: 'context', 4: 'map value', 5: 'map', 6: 'ring buffer',
};

export interface Region {
  readonly id: number;
  readonly kind: RegionKindValue;
  /** Backing bytes; the region's valid window is [lo, hi) inside them. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** First valid offset (the packet's data_meta; 0 elsewhere). */
  lo: number;
  /** One past the last valid offset (the packet's data_end; the length elsewhere). */
  hi: number;
  readonly writable: boolean;
  /** For MAP_VALUE and MAP_HANDLE regions: the map's index in the program's map list. */
  readonly map?: number;
}

/** A failed access by the program: what it tried, for the per-packet `aborted` reason. */
export class MemoryFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryFault';
  }
}

export class Memory {
  /** regions[id]; index 0 is the NULL region and never valid. */
  readonly regions: (Region | undefined)[] = [undefined];

  add(kind: RegionKindValue, bytes: Uint8Array, opts: { writable?: boolean; map?: number; lo?: number; hi?: number } = {}): Region {
    const region: Region = {
      id: this.regions.length,
      kind,
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      lo: opts.lo ?? 0,
      hi: opts.hi ?? bytes.length,
      writable: opts.writable ?? true,
      ...(opts.map !== undefined ? { map: opts.map } : {}),
    };
    this.regions.push(region);
    return region;
  }

  /**
   * The region a pointer (high word `hi`, offset `off`) names, checked for `size` bytes;
   * throws MemoryFault on NULL, an unknown region, an out-of-window access, or a write to
   * a read-only region.
   */
  resolve(hi: number, off: number, size: number, write: boolean): Region {
    const r = hi > 0 ? this.regions[hi] : undefined;
    if (r === undefined) {
      throw new MemoryFault(hi === 0 ? `${write ? 'write to' : 'read from'} NULL+${off >>> 0}` : `invalid pointer 0x${(hi >>> 0).toString(16)}${(off >>> 0).toString(16).padStart(8, '0')}`);
    }
    if (off < r.lo || off + size > r.hi) {
      throw new MemoryFault(
        `${write ? 'write' : 'read'} of ${size} bytes at offset ${off - r.lo} is outside the ${r.hi - r.lo}-byte ${REGION_KIND_NAMES[r.kind]}`,
      );
    }
    if (write && !r.writable) throw new MemoryFault(`write to read-only ${REGION_KIND_NAMES[r.kind]}`);
    return r;
  }
}

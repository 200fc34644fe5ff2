/**
 * What every host map shares: its definition, its MAP_HANDLE region, byte-order
 * aware key and value decoding, key checks, and the kernel's answer for an
 * operation a map type does not have (-EINVAL, as bpf_map_push_elem and friends
 * give for maps without the op).
 */
import { Buffer } from 'node:buffer';
import type { MapDef } from '../object/bpf-object.js';
import type { Region } from '../runtime/memory.js';
import { RegionKind } from '../runtime/memory.js';
import { Errno, type BpfMap, type MapEnv, type ValueRef } from './bpf-map.js';
import { mapLabel } from './map-errors.js';
import { MapFlag } from './map-types.js';

/**
 * Bytes compared as bytes, as a JS Map key: keys of up to 6 bytes as the number they spell
 * (exact below 2^48; a map's keys all have one length, so numbers and strings never meet),
 * keys of up to 32 bytes as a string of UTF-16 units holding two bytes each (built without
 * copying the key — the engines' lookups read keys in place), longer keys as a latin1 string.
 */
export function keyString(key: Uint8Array): string | number {
  return keyStringAt(key, 0, key.length);
}

/** keyString of bytes[at .. at + n), read in place. */
export function keyStringAt(b: Uint8Array, at: number, n: number): string | number {
  if (n <= 6) {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[at + i]!;
    return v;
  }
  if (n <= 32) {
    const u = (i: number): number => (i + 1 < n ? b[at + i]! | (b[at + i + 1]! << 8) : b[at + i]!);
    switch ((n + 1) >> 1) {
      case 4: return String.fromCharCode(u(0), u(2), u(4), u(6));
      case 5: return String.fromCharCode(u(0), u(2), u(4), u(6), u(8));
      case 6: return String.fromCharCode(u(0), u(2), u(4), u(6), u(8), u(10));
      case 7: return String.fromCharCode(u(0), u(2), u(4), u(6), u(8), u(10), u(12));
      case 8: return String.fromCharCode(u(0), u(2), u(4), u(6), u(8), u(10), u(12), u(14));
      default: {
        const units = new Array<number>((n + 1) >> 1);
        for (let i = 0; i < units.length; i++) units[i] = u(2 * i);
        return String.fromCharCode.apply(null, units);
      }
    }
  }
  return Buffer.from(b.buffer, b.byteOffset + at, n).toString('latin1');
}

export abstract class MapBase implements BpfMap {
  readonly handle: Region;
  protected readonly le: boolean;

  constructor(readonly def: MapDef, protected readonly env: MapEnv) {
    this.handle = env.memory.add(RegionKind.MAP_HANDLE, new Uint8Array(0), { map: def.index });
    this.le = env.littleEndian ?? true;
  }

  /** Can a program write through value pointers and call update/delete (no BPF_F_RDONLY_PROG)? */
  protected get progWritable(): boolean {
    return (this.def.flags & MapFlag.RDONLY_PROG) === 0;
  }

  /** May user space write (no BPF_F_RDONLY)? */
  protected get userWritable(): boolean {
    return (this.def.flags & MapFlag.RDONLY) === 0;
  }

  /** A caller bug (the engine reads exactly key_size bytes): a clear exception, not an errno. */
  protected checkKey(key: Uint8Array): void {
    if (key.length !== this.def.keySize) {
      throw new RangeError(`${mapLabel(this.def)}: key of ${key.length} bytes, expected ${this.def.keySize}`);
    }
  }

  protected checkValue(value: Uint8Array, size = this.def.valueSize): void {
    if (value.length < size) {
      throw new RangeError(`${mapLabel(this.def)}: value of ${value.length} bytes, expected ${size}`);
    }
  }

  protected checkCpu(cpu: number): void {
    if (!(Number.isInteger(cpu) && cpu >= 0 && cpu < this.env.cpus)) {
      throw new RangeError(`${mapLabel(this.def)}: cpu ${cpu} outside 0..${this.env.cpus - 1}`);
    }
  }

  protected u32(bytes: Uint8Array, offset = 0): number {
    const b0 = bytes[offset]!;
    const b1 = bytes[offset + 1]!;
    const b2 = bytes[offset + 2]!;
    const b3 = bytes[offset + 3]!;
    return (this.le ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24) : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
  }

  protected i32(bytes: Uint8Array, offset = 0): number {
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(offset, this.le);
  }

  /** The allocation-free lookup; maps on the hot path override it, the rest go through lookup(). */
  lookupAt(bytes: Uint8Array, at: number, cpu: number, out: Int32Array): boolean {
    const v = this.lookup(bytes.subarray(at, at + this.def.keySize), cpu);
    if (v === undefined) return false;
    out[0] = v.offset;
    out[1] = v.region.id;
    return true;
  }

  protected u32Bytes(...values: number[]): Uint8Array {
    const out = new Uint8Array(values.length * 4);
    const dv = new DataView(out.buffer);
    values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, this.le));
    return out;
  }

  lookup(_key: Uint8Array, _cpu: number): ValueRef | undefined {
    return undefined;
  }
  update(_key: Uint8Array, _value: Uint8Array, _flags: number, _cpu: number): number {
    return -Errno.EINVAL;
  }
  delete(_key: Uint8Array, _cpu: number): number {
    return -Errno.EINVAL;
  }
  push(_value: Uint8Array, _flags: number): number {
    return -Errno.EINVAL;
  }
  pop(_peek: boolean): Uint8Array | number {
    return -Errno.EINVAL;
  }
  keys(): Uint8Array[] {
    return [];
  }
  read(_key: Uint8Array): Uint8Array[] | undefined {
    return undefined;
  }
  write(_key: Uint8Array, _values: readonly Uint8Array[], _flags: number): number {
    return -Errno.EINVAL;
  }
}

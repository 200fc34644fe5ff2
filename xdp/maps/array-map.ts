/**
 * BPF_MAP_TYPE_ARRAY and PERCPU_ARRAY (kernel/bpf/arraymap.c), and the
 * global-data maps libbpf makes of `.data`, `.rodata` and `.bss` (one-element
 * arrays holding the section; `.rodata` is BPF_F_RDONLY_PROG, so its value
 * region is read-only to the program).
 *
 * Every element exists from the start (zeroed); the key is a u32 index.
 * Update: unknown flags -EINVAL, index >= max_entries -E2BIG, BPF_NOEXIST
 * -EEXIST (all elements already exist), BPF_F_LOCK -EINVAL (no bpf_spin_lock
 * in the value). Delete is always -EINVAL.
 */
import type { MapDef } from '../object/bpf-object.js';
import { Errno, UpdateFlag, type MapEnv, type ValueRef } from './bpf-map.js';
import { MapBase } from './map-base.js';
import { MAP_TYPE } from './map-types.js';
import { ValueSlab } from './value-slab.js';

export class ArrayMap extends MapBase {
  readonly percpu: boolean;
  private readonly slab: ValueSlab;

  /** Values per key: the CPU count for per-CPU maps, else 1. */
  get copies(): number {
    return this.slab.copies;
  }

  constructor(def: MapDef, env: MapEnv) {
    super(def, env);
    this.percpu = def.type === MAP_TYPE.PERCPU_ARRAY;
    this.slab = new ValueSlab({
      memory: env.memory, map: def.index, valueSize: def.valueSize, capacity: def.maxEntries,
      copies: this.percpu ? env.cpus : 1, writable: this.progWritable,
    });
    if (def.initialValue !== undefined) this.slab.write(0, 0, def.initialValue);
  }

  private index(key: Uint8Array): number {
    this.checkKey(key);
    return this.u32(key);
  }

  override lookup(key: Uint8Array, cpu: number): ValueRef | undefined {
    const i = this.index(key);
    if (i >= this.def.maxEntries) return undefined;
    if (this.percpu) this.checkCpu(cpu);
    return this.slab.ref(i, this.percpu ? cpu : 0);
  }

  override lookupAt(bytes: Uint8Array, at: number, cpu: number, out: Int32Array): boolean {
    const i = this.u32(bytes, at);
    if (i >= this.def.maxEntries) return false;
    if (this.percpu) this.checkCpu(cpu);
    this.slab.locate(i, this.percpu ? cpu : 0, out);
    return true;
  }

  inlineArray(): { region: number; stride: number; maxEntries: number } | undefined {
    if (this.percpu || !this.slab.singleRegion()) return undefined;
    const out = new Int32Array(2);
    this.slab.locate(0, 0, out);
    return { region: out[1]!, stride: this.slab.stride, maxEntries: this.def.maxEntries };
  }

  /**
   * The value of a single-element array, as `lddw rX, map[...] + off` (BPF_PSEUDO_MAP_VALUE) points
   * into it: array_map_direct_value_addr allows it only for max_entries 1 (and not per-CPU).
   */
  directValue(): ValueRef | undefined {
    return this.def.maxEntries === 1 && !this.percpu ? this.slab.ref(0, 0) : undefined;
  }

  /** array_map_update_elem (the program's call; on a per-CPU array it writes the calling CPU's copy). */
  override update(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    if (!this.progWritable) return -Errno.EACCES;
    const i = this.index(key);
    if (((flags & ~UpdateFlag.LOCK) >>> 0) > UpdateFlag.EXIST) return -Errno.EINVAL;
    if (i >= this.def.maxEntries) return -Errno.E2BIG;
    if ((flags & UpdateFlag.NOEXIST) !== 0) return -Errno.EEXIST;
    if ((flags & UpdateFlag.LOCK) !== 0) return -Errno.EINVAL;
    this.checkValue(value);
    if (this.percpu) this.checkCpu(cpu);
    this.slab.write(i, this.percpu ? cpu : 0, value);
    return 0;
  }

  override delete(key: Uint8Array, _cpu: number): number {
    this.index(key);
    return -Errno.EINVAL;
  }

  override keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.def.maxEntries; i++) out.push(this.u32Bytes(i));
    return out;
  }

  override read(key: Uint8Array): Uint8Array[] | undefined {
    const i = this.index(key);
    if (i >= this.def.maxEntries) return undefined;
    return Array.from({ length: this.slab.copies }, (_, c) => this.slab.read(i, c));
  }

  /** From user space: array_map_update_elem, or bpf_percpu_array_update (one value per CPU, or one for all). */
  override write(key: Uint8Array, values: readonly Uint8Array[], flags: number): number {
    if (!this.userWritable) return -Errno.EPERM;
    const i = this.index(key);
    const mask = this.percpu ? 0 : UpdateFlag.LOCK;
    if (((flags & ~mask) >>> 0) > UpdateFlag.EXIST) return -Errno.EINVAL;
    if (i >= this.def.maxEntries) return -Errno.E2BIG;
    if ((flags & UpdateFlag.NOEXIST) !== 0) return -Errno.EEXIST;
    if ((flags & UpdateFlag.LOCK) !== 0) return -Errno.EINVAL;
    if (values.length !== 1 && values.length !== this.slab.copies) return -Errno.EINVAL;
    for (const v of values) this.checkValue(v);
    for (let c = 0; c < this.slab.copies; c++) this.slab.write(i, c, values.length === 1 ? values[0]! : values[c]!);
    return 0;
  }
}

/**
 * BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH
 * (kernel/bpf/hashtab.c), keys compared as bytes.
 *
 * Update (htab_map_update_elem, htab_lru_map_update_elem,
 * __htab_percpu_map_update_elem, __htab_lru_percpu_map_update_elem):
 * unknown flags -EINVAL (BPF_F_LOCK is known to HASH but needs a bpf_spin_lock
 * in the value, so -EINVAL here too); BPF_NOEXIST on a present key -EEXIST;
 * BPF_EXIST on an absent key -ENOENT; a new key when max_entries are present:
 * HASH -E2BIG, LRU evicts the least recently used key. Replacing a key's value
 * in a HASH or LRU_HASH puts it in a new element (a program that kept a pointer
 * to the old value still sees the old bytes); per-CPU hashes update in place.
 * Delete of an absent key -ENOENT.
 *
 * The LRU here is exact: recency is the order of the program's lookups and of
 * updates (user-space reads do not count, as the kernel's
 * htab_lru_map_lookup_elem_sys does not mark). The kernel's is approximate: see
 * docs/maps.md.
 */
import type { MapDef } from '../object/bpf-object.js';
import { Errno, UpdateFlag, type MapEnv, type ValueRef } from './bpf-map.js';
import { MapBase, keyString, keyStringAt } from './map-base.js';
import { MAP_TYPE } from './map-types.js';
import { hashCapacity } from './map-validate.js';
import { SlotAllocator, ValueSlab } from './value-slab.js';

interface Entry {
  readonly key: Uint8Array;
  /** Its key string (the `entries` key), so a hit found by hash can update recency. */
  readonly k: string | number;
  slot: number;
}

/** A multiplicative hash of key bytes read in place, four at a time: the bucket of the by-hash index. */
function hashAt(b: Uint8Array, at: number, n: number): number {
  let h = 0x811c9dc5 ^ n;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = b[at + i]! | (b[at + i + 1]! << 8) | (b[at + i + 2]! << 16) | (b[at + i + 3]! << 24);
    h = Math.imul(h ^ w, 0x9e3779b1);
    h ^= h >>> 15;
  }
  for (; i < n; i++) h = Math.imul(h ^ b[at + i]!, 0x01000193);
  return h;
}

function sameKey(key: Uint8Array, b: Uint8Array, at: number): boolean {
  for (let i = 0; i < key.length; i++) if (key[i] !== b[at + i]) return false;
  return true;
}

export class HashMap extends MapBase {
  readonly percpu: boolean;
  readonly lru: boolean;
  /** Elements the map holds at most (max_entries; rounded to a CPU multiple with BPF_F_NO_COMMON_LRU). */
  readonly capacity: number;
  /** Present keys, in insertion order. */
  private readonly entries = new Map<string | number, Entry>();
  /** LRU maps: present keys from least to most recently used. */
  private readonly recency = new Map<string | number, Entry>();
  /**
   * Keys longer than 6 bytes also by a 32-bit hash of their bytes, so that the engines' lookups
   * (which read the key in place) need not build a string per packet.
   */
  private readonly byHash = new Map<number, Entry[]>();
  private readonly slab: ValueSlab;

  /** Values per key: the CPU count for per-CPU maps, else 1. */
  get copies(): number {
    return this.slab.copies;
  }
  private readonly slots: SlotAllocator;

  constructor(def: MapDef, env: MapEnv) {
    super(def, env);
    this.percpu = def.type === MAP_TYPE.PERCPU_HASH || def.type === MAP_TYPE.LRU_PERCPU_HASH;
    this.lru = def.type === MAP_TYPE.LRU_HASH || def.type === MAP_TYPE.LRU_PERCPU_HASH;
    this.capacity = hashCapacity(def, env.cpus);
    // One spare slot: replacing a value takes a new element before the old one is freed
    // (the kernel keeps per-CPU extra elements for this).
    const slotCount = this.capacity + (this.percpu ? 0 : 1);
    this.slab = new ValueSlab({
      memory: env.memory, map: def.index, valueSize: def.valueSize, capacity: slotCount,
      copies: this.percpu ? env.cpus : 1, writable: this.progWritable,
    });
    this.slots = new SlotAllocator(slotCount);
  }

  /** Number of keys present. */
  get size(): number {
    return this.entries.size;
  }

  private touch(k: string | number, e: Entry): void {
    if (!this.lru) return;
    this.recency.delete(k);
    this.recency.set(k, e);
  }

  private remove(k: string | number, e: Entry): void {
    if (typeof k === 'string') {
      const h = hashAt(e.key, 0, e.key.length);
      const bucket = this.byHash.get(h)!;
      bucket.splice(bucket.indexOf(e), 1);
      if (bucket.length === 0) this.byHash.delete(h);
    }
    this.entries.delete(k);
    this.recency.delete(k);
    this.slots.free(e.slot);
  }

  override lookup(key: Uint8Array, cpu: number): ValueRef | undefined {
    this.checkKey(key);
    const k = keyString(key);
    const e = this.entries.get(k);
    if (e === undefined) return undefined;
    if (this.percpu) this.checkCpu(cpu);
    this.touch(k, e);
    return this.slab.ref(e.slot, this.percpu ? cpu : 0);
  }

  override lookupAt(bytes: Uint8Array, at: number, cpu: number, out: Int32Array): boolean {
    const n = this.def.keySize;
    let e: Entry | undefined;
    if (n <= 6) {
      e = this.entries.get(keyStringAt(bytes, at, n));
    } else {
      const bucket = this.byHash.get(hashAt(bytes, at, n));
      if (bucket !== undefined) for (const c of bucket) if (sameKey(c.key, bytes, at)) e = c;
    }
    if (e === undefined) return false;
    if (this.percpu) this.checkCpu(cpu);
    this.touch(e.k, e);
    this.slab.locate(e.slot, this.percpu ? cpu : 0, out);
    return true;
  }

  /** Unknown-flag check of the kernel's update function for this type. */
  private badFlags(flags: number): boolean {
    if (this.lru || this.percpu) return flags >>> 0 > UpdateFlag.EXIST;
    return ((flags & ~UpdateFlag.LOCK) >>> 0) > UpdateFlag.EXIST || (flags & UpdateFlag.LOCK) !== 0;
  }

  override update(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number {
    if (!this.progWritable) return -Errno.EACCES;
    this.checkKey(key);
    if (this.badFlags(flags)) return -Errno.EINVAL;
    this.checkValue(value);
    if (this.percpu) this.checkCpu(cpu);
    return this.store(key, [value], flags, this.percpu ? cpu : -1);
  }

  /**
   * Insert or replace. `cpu` >= 0: a program's per-CPU update (that CPU's copy; a new
   * element's other copies are zeroed, as pcpu_init_value does); -1: every copy from `values`.
   */
  private store(key: Uint8Array, values: readonly Uint8Array[], flags: number, cpu: number): number {
    const k = keyString(key);
    const old = this.entries.get(k);
    const op = flags & ~UpdateFlag.LOCK;
    if (old !== undefined && op === UpdateFlag.NOEXIST) return -Errno.EEXIST;
    if (old === undefined && op === UpdateFlag.EXIST) return -Errno.ENOENT;
    const valueFor = (c: number): Uint8Array => (values.length === 1 ? values[0]! : values[c]!);

    if (old !== undefined && this.percpu) {
      if (cpu >= 0) this.slab.write(old.slot, cpu, values[0]!);
      else for (let c = 0; c < this.slab.copies; c++) this.slab.write(old.slot, c, valueFor(c));
      this.touch(k, old);
      return 0;
    }
    if (old === undefined && this.entries.size >= this.capacity) {
      if (!this.lru) return -Errno.E2BIG;
      const [victimKey, victim] = this.recency.entries().next().value as [string | number, Entry];
      this.remove(victimKey, victim);
    }
    const slot = this.slots.alloc();
    if (slot < 0) return -Errno.E2BIG; // cannot happen: one slot is kept spare
    if (this.percpu) {
      for (let c = 0; c < this.slab.copies; c++) {
        if (cpu < 0) this.slab.write(slot, c, valueFor(c));
        else if (c === cpu) this.slab.write(slot, c, values[0]!);
        else this.slab.zero(slot, c);
      }
    } else {
      this.slab.write(slot, 0, values[0]!);
    }
    if (old !== undefined) {
      this.slots.free(old.slot);
      old.slot = slot;
      this.touch(k, old);
    } else {
      const e: Entry = { key: key.slice(), k, slot };
      this.entries.set(k, e);
      if (typeof k === 'string') {
        const h = hashAt(e.key, 0, e.key.length);
        const bucket = this.byHash.get(h);
        if (bucket) bucket.push(e);
        else this.byHash.set(h, [e]);
      }
      this.touch(k, e);
    }
    return 0;
  }

  override delete(key: Uint8Array, _cpu: number): number {
    if (!this.progWritable) return -Errno.EACCES;
    this.checkKey(key);
    const k = keyString(key);
    const e = this.entries.get(k);
    if (e === undefined) return -Errno.ENOENT;
    this.remove(k, e);
    return 0;
  }

  override keys(): Uint8Array[] {
    return [...this.entries.values()].map((e) => e.key.slice());
  }

  /** Keys from least to most recently used (LRU maps; insertion order otherwise). */
  recencyOrder(): Uint8Array[] {
    return [...(this.lru ? this.recency : this.entries).values()].map((e) => e.key.slice());
  }

  override read(key: Uint8Array): Uint8Array[] | undefined {
    this.checkKey(key);
    const e = this.entries.get(keyString(key));
    if (e === undefined) return undefined;
    return Array.from({ length: this.slab.copies }, (_, c) => this.slab.read(e.slot, c));
  }

  override write(key: Uint8Array, values: readonly Uint8Array[], flags: number): number {
    if (!this.userWritable) return -Errno.EPERM;
    this.checkKey(key);
    if (this.badFlags(flags)) return -Errno.EINVAL;
    if (values.length !== 1 && values.length !== this.slab.copies) return -Errno.EINVAL;
    for (const v of values) this.checkValue(v);
    return this.store(key, values, flags, -1);
  }
}

/**
 * BPF_MAP_TYPE_ARRAY_OF_MAPS and HASH_OF_MAPS (kernel/bpf/map_in_map.c,
 * arraymap.c, hashtab.c): values are other maps of the object. A program's
 * lookup gets the inner map itself — `{ region: inner.handle, offset: 0 }`, the
 * CONST_PTR_TO_MAP it then passes to bpf_map_lookup_elem & co.
 *
 * An inner map must match the template of the definition (`__array(values, ...)`),
 * as bpf_map_meta_equal checks: same type, key_size, value_size and flags, and
 * for arrays the same max_entries unless the template has BPF_F_INNER_MAP
 * (array_map_meta_equal); a mismatch is -EINVAL. `initialSlots`
 * (`.values = { [i] = &map }`) name maps of MapEnv.maps and are placed before
 * first use.
 *
 * From user space a 4-byte value is a host map fd: map `fd - 1` (by MapDef.index);
 * reading gives the same number (the kernel gives the inner map's id). Array
 * update flags other than BPF_ANY -EINVAL, index >= max_entries -E2BIG; delete of
 * an empty array slot -ENOENT (-E2BIG beyond max_entries). The hash has the hash
 * semantics (-EEXIST, -ENOENT, -E2BIG when full). An fd that is no map -EBADF.
 */
import type { MapDef } from '../object/bpf-object.js';
import { Errno, UpdateFlag, type BpfMap, type MapEnv, type ValueRef } from './bpf-map.js';
import { MapBase, keyString } from './map-base.js';
import { MapDefError } from './map-errors.js';
import { MAP_TYPE, MapFlag, mapTypeName } from './map-types.js';

interface Slot {
  readonly key: Uint8Array;
  inner: BpfMap;
}

/** Why `candidate` cannot be an inner map of `outer` (bpf_map_meta_equal), or undefined when it can. */
export function innerMapMismatch(outer: MapDef, candidate: MapDef): string | undefined {
  const t = outer.inner;
  if (t === undefined) return 'the outer map has no inner map template';
  const diffs: string[] = [];
  if (candidate.type !== t.type) diffs.push(`type ${mapTypeName(candidate.type)} (template ${mapTypeName(t.type)})`);
  if (candidate.keySize !== t.keySize) diffs.push(`key_size ${candidate.keySize} (template ${t.keySize})`);
  if (candidate.valueSize !== t.valueSize) diffs.push(`value_size ${candidate.valueSize} (template ${t.valueSize})`);
  if (candidate.flags !== t.flags) diffs.push(`flags ${candidate.flags} (template ${t.flags})`);
  const isArray = t.type === MAP_TYPE.ARRAY || t.type === MAP_TYPE.PERCPU_ARRAY;
  if (isArray && (t.flags & MapFlag.INNER_MAP) === 0 && candidate.maxEntries !== t.maxEntries) {
    diffs.push(`max_entries ${candidate.maxEntries} (template ${t.maxEntries}; BPF_F_INNER_MAP would allow any)`);
  }
  return diffs.length > 0 ? diffs.join(', ') : undefined;
}

export class MapInMap extends MapBase {
  readonly hashed: boolean;
  private readonly slots = new Map<string | number, Slot>();
  private pending: MapDef['initialSlots'];

  constructor(def: MapDef, env: MapEnv) {
    super(def, env);
    this.hashed = def.type === MAP_TYPE.HASH_OF_MAPS;
    this.pending = def.initialSlots;
  }

  /**
   * Place `initialSlots` (called by createMaps once every map exists, else on first use);
   * a slot naming an unknown or mismatching map is a MapDefError.
   */
  resolveInitialSlots(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    for (const { slot, name } of pending) {
      const inner = this.env.maps.find((m) => m.def.name === name);
      if (inner === undefined) {
        throw new MapDefError(this.def, `initial slot ${slot} names map '${name}', which the object does not define`, Errno.EBADF);
      }
      if (!this.hashed && slot >= this.def.maxEntries) {
        throw new MapDefError(this.def, `initial slot ${slot} ('${name}') is outside max_entries ${this.def.maxEntries}`, Errno.E2BIG);
      }
      if (this.def.keySize !== 4) throw new MapDefError(this.def, `initial slots need a 4-byte key, not ${this.def.keySize}`, Errno.EINVAL);
      const why = innerMapMismatch(this.def, inner.def);
      if (why !== undefined) {
        throw new MapDefError(this.def, `initial slot ${slot}: map '${name}' does not match the inner map template: ${why}`, Errno.EINVAL);
      }
      const key = this.u32Bytes(slot);
      this.slots.set(keyString(key), { key, inner });
    }
  }

  /** The inner map at `key`, if any. */
  inner(key: Uint8Array): BpfMap | undefined {
    this.resolveInitialSlots();
    this.checkKey(key);
    return this.slots.get(keyString(key))?.inner;
  }

  override lookup(key: Uint8Array, _cpu: number): ValueRef | undefined {
    const inner = this.inner(key);
    return inner === undefined ? undefined : { region: inner.handle, offset: 0 };
  }

  override update(key: Uint8Array, value: Uint8Array, flags: number, _cpu: number): number {
    return this.write(key, [value], flags);
  }

  override write(key: Uint8Array, values: readonly Uint8Array[], flags: number): number {
    this.resolveInitialSlots();
    if (!this.userWritable) return -Errno.EPERM;
    this.checkKey(key);
    if (values.length !== 1) return -Errno.EINVAL;
    this.checkValue(values[0]!);
    const fd = this.u32(values[0]!);
    if (!this.hashed) {
      if (flags !== UpdateFlag.ANY) return -Errno.EINVAL;
      if (this.u32(key) >= this.def.maxEntries) return -Errno.E2BIG;
    }
    const inner = fd >= 1 ? this.env.maps.find((m) => m.def.index === fd - 1) : undefined;
    if (inner === undefined) return -Errno.EBADF;
    return this.put(key, inner, flags);
  }

  /** Put `inner` at `key` (checking it against the template); 0 or -errno. */
  setInner(key: Uint8Array, inner: BpfMap, flags = UpdateFlag.ANY): number {
    this.resolveInitialSlots();
    this.checkKey(key);
    if (!this.hashed && this.u32(key) >= this.def.maxEntries) return -Errno.E2BIG;
    return this.put(key, inner, flags);
  }

  private put(key: Uint8Array, inner: BpfMap, flags: number): number {
    if (innerMapMismatch(this.def, inner.def) !== undefined) return -Errno.EINVAL;
    const k = keyString(key);
    const old = this.slots.get(k);
    if (this.hashed) {
      if ((flags & ~UpdateFlag.LOCK) > UpdateFlag.EXIST || (flags & UpdateFlag.LOCK) !== 0 || flags < 0) return -Errno.EINVAL;
      if (old !== undefined && flags === UpdateFlag.NOEXIST) return -Errno.EEXIST;
      if (old === undefined && flags === UpdateFlag.EXIST) return -Errno.ENOENT;
      if (old === undefined && this.slots.size >= this.def.maxEntries) return -Errno.E2BIG;
    }
    if (old !== undefined) old.inner = inner;
    else this.slots.set(k, { key: key.slice(), inner });
    return 0;
  }

  override delete(key: Uint8Array, _cpu: number): number {
    this.resolveInitialSlots();
    this.checkKey(key);
    if (!this.hashed && this.u32(key) >= this.def.maxEntries) return -Errno.E2BIG;
    return this.slots.delete(keyString(key)) ? 0 : -Errno.ENOENT;
  }

  override keys(): Uint8Array[] {
    this.resolveInitialSlots();
    const slots = [...this.slots.values()];
    if (!this.hashed) slots.sort((a, b) => this.u32(a.key) - this.u32(b.key));
    return slots.map((s) => s.key.slice());
  }

  override read(key: Uint8Array): Uint8Array[] | undefined {
    const inner = this.inner(key);
    return inner === undefined ? undefined : [this.u32Bytes(inner.def.index + 1)];
  }
}

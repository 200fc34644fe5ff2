/**
 * BPF_MAP_TYPE_PROG_ARRAY (kernel/bpf/arraymap.c, the fd-array ops): slots
 * holding programs for bpf_tail_call. On the host a slot holds a program's
 * name; `initialSlots` (libbpf's `.values = { [i] = &prog }`) fill it at
 * creation. A program cannot look into it (fd_array_map_lookup_elem gives
 * NULL; the verifier allows only bpf_tail_call on it).
 *
 * From user space (bpf_fd_array_map_update_elem / fd_array_map_delete_elem):
 * update flags other than BPF_ANY -EINVAL, index >= max_entries -E2BIG, an fd
 * that is no program -EBADF; delete index >= max_entries -E2BIG, empty slot
 * -ENOENT. A 4-byte value is a host program fd: program `fd - 1` of
 * MapEnv.programs; reading a slot gives the same number (the kernel gives the
 * program's id).
 */
import type { MapDef } from '../object/bpf-object.js';
import { Errno, UpdateFlag, type MapEnv } from './bpf-map.js';
import { MapBase } from './map-base.js';
import { MapDefError } from './map-errors.js';

export class ProgArrayMap extends MapBase {
  private readonly slots = new Map<number, string>();

  constructor(def: MapDef, env: MapEnv) {
    super(def, env);
    for (const { slot, name } of def.initialSlots ?? []) {
      if (slot >= def.maxEntries) {
        throw new MapDefError(def, `initial slot ${slot} ('${name}') is outside max_entries ${def.maxEntries}`, Errno.E2BIG);
      }
      if (env.programs !== undefined && !env.programs.includes(name)) {
        throw new MapDefError(def, `initial slot ${slot} names program '${name}', which the object does not have`, Errno.EBADF);
      }
      this.slots.set(slot, name);
    }
  }

  /** The program in slot `index`, for bpf_tail_call (undefined: the tail call falls through). */
  program(index: number): string | undefined {
    return this.slots.get(index);
  }

  /** Put a program (by name) into a slot, or empty it; 0 or -E2BIG / -ENOENT / -EBADF. */
  setProgram(index: number, name: string | undefined): number {
    if (!(Number.isInteger(index) && index >= 0 && index < this.def.maxEntries)) return -Errno.E2BIG;
    if (name === undefined) return this.slots.delete(index) ? 0 : -Errno.ENOENT;
    if (this.env.programs !== undefined && !this.env.programs.includes(name)) return -Errno.EBADF;
    this.slots.set(index, name);
    return 0;
  }

  /** The slot a key names (a u32 in the map's byte order). */
  slotIndex(key: Uint8Array): number {
    return this.index(key);
  }

  private index(key: Uint8Array): number {
    this.checkKey(key);
    return this.u32(key);
  }

  override update(key: Uint8Array, value: Uint8Array, flags: number, _cpu: number): number {
    return this.write(key, [value], flags);
  }

  override write(key: Uint8Array, values: readonly Uint8Array[], flags: number): number {
    if (!this.userWritable) return -Errno.EPERM;
    const index = this.index(key);
    if (values.length !== 1) return -Errno.EINVAL;
    this.checkValue(values[0]!);
    if (flags !== UpdateFlag.ANY) return -Errno.EINVAL;
    if (index >= this.def.maxEntries) return -Errno.E2BIG;
    const fd = this.u32(values[0]!);
    const name = fd >= 1 ? this.env.programs?.[fd - 1] : undefined;
    if (name === undefined) return -Errno.EBADF;
    this.slots.set(index, name);
    return 0;
  }

  override delete(key: Uint8Array, _cpu: number): number {
    const index = this.index(key);
    if (index >= this.def.maxEntries) return -Errno.E2BIG;
    return this.slots.delete(index) ? 0 : -Errno.ENOENT;
  }

  /** The populated slots, by index (the kernel's get_next_key walks every index; empty ones fail lookup). */
  override keys(): Uint8Array[] {
    return [...this.slots.keys()].sort((a, b) => a - b).map((i) => this.u32Bytes(i));
  }

  override read(key: Uint8Array): Uint8Array[] | undefined {
    const name = this.slots.get(this.index(key));
    if (name === undefined) return undefined;
    const i = this.env.programs?.indexOf(name) ?? -1;
    return [this.u32Bytes(i + 1)];
  }
}

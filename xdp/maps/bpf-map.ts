/**
 * The contract every host-side map implements: the program's view (lookup
 * returning where the value lives in the engine's memory, update/delete with
 * the kernel's flags and error codes, queue/stack push/pop/peek), and user
 * space's view (iterate, read all CPUs' values, write), as bpf(2) offers them.
 * Errors are negative errno values, as the helpers return them.
 */
import type { MapDef } from '../object/bpf-object.js';
import type { Memory, Region } from '../runtime/memory.js';

export const Errno = {
  ENOENT: 2, E2BIG: 7, EAGAIN: 11, ENOMEM: 12, EFAULT: 14, EBUSY: 16, EEXIST: 17, EINVAL: 22, ENOSPC: 28,
  EOPNOTSUPP: 95, EAFNOSUPPORT: 97, ENOTSUPP: 524,
  EPERM: 1, EBADF: 9, EACCES: 13, ENODEV: 19, EOVERFLOW: 75,
} as const;

/** The symbolic name of an errno value (positive or negative), for messages: `E2BIG`, or `errno 99`. */
export function errnoName(code: number): string {
  const n = Math.abs(code);
  for (const [name, value] of Object.entries(Errno)) if (value === n) return name;
  return `errno ${n}`;
}

/** Update flags of bpf_map_update_elem (include/uapi/linux/bpf.h). */
export const UpdateFlag = { ANY: 0, NOEXIST: 1, EXIST: 2, LOCK: 4 } as const;

/** Where a value lives: the program gets (region.id, offset) as its pointer. */
export interface ValueRef {
  readonly region: Region;
  readonly offset: number;
}

export interface MapEnv {
  readonly memory: Memory;
  /** Number of possible CPUs: per-CPU maps keep this many values per key. */
  readonly cpus: number;
  /** The maps of the same object, for map-in-map values and PROG_ARRAY checks (filled before use). */
  readonly maps: readonly BpfMap[];
  /**
   * Names of the object's programs, in order: a PROG_ARRAY's `initialSlots` must name one of them
   * (when given), and where the kernel takes a program fd in a value (PROG_ARRAY, devmap and cpumap
   * program fields) the host takes `fd` = index + 1 into this list (docs/maps.md).
   */
  readonly programs?: readonly string[];
  /** Byte order of keys and values (array indices, LPM prefix lengths, devmap values); default little-endian. */
  readonly littleEndian?: boolean;
}

export interface BpfMap {
  readonly def: MapDef;
  /** The region an `lddw` of this map yields a pointer to (kind MAP_HANDLE). */
  readonly handle: Region;

  // --- the program's side (helpers) ---
  /** bpf_map_lookup_elem: the value for `cpu` (per-CPU maps) or undefined. Maps whose values a program cannot see return undefined. */
  lookup(key: Uint8Array, cpu: number): ValueRef | undefined;
  /**
   * The same lookup without allocating, for the engines' hot path: the key is read in place at
   * bytes[at .. at + key_size); on a hit out[0] = value offset, out[1] = region id and the result is
   * true; on a miss out is untouched and the result is false.
   */
  lookupAt(bytes: Uint8Array, at: number, cpu: number, out: Int32Array): boolean;
  /**
   * For a map whose value i always lives at (region, i * stride) — a plain array in one region —
   * that layout, so a compiled program can look values up without calling the helper.
   */
  inlineArray?(): { region: number; stride: number; maxEntries: number } | undefined;
  /** bpf_map_update_elem: 0 or -errno. */
  update(key: Uint8Array, value: Uint8Array, flags: number, cpu: number): number;
  /** bpf_map_delete_elem: 0 or -errno. */
  delete(key: Uint8Array, cpu: number): number;
  /** QUEUE/STACK: bpf_map_push_elem. Other maps: -EINVAL. */
  push(value: Uint8Array, flags: number): number;
  /** QUEUE/STACK: bpf_map_pop_elem / bpf_map_peek_elem: the value, or -errno. */
  pop(peek: boolean): Uint8Array | number;

  // --- user space's side (bpf(2), JSON in/out) ---
  /** Every key present, in the order bpf_map_get_next_key would walk them. */
  keys(): Uint8Array[];
  /** Value(s) of a key: one per CPU for per-CPU maps, one otherwise; undefined if absent. */
  read(key: Uint8Array): Uint8Array[] | undefined;
  /** Write from user space: per-CPU maps take one value per CPU (or one for all). 0 or -errno. */
  write(key: Uint8Array, values: readonly Uint8Array[], flags: number): number;

  /**
   * The value `lddw rX, map[i] + off` (BPF_PSEUDO_MAP_VALUE) points into: single-element arrays only
   * (array_map_direct_value_addr), so global data; undefined for every other map.
   */
  directValue?(): ValueRef | undefined;
}

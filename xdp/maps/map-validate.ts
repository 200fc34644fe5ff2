/**
 * Checking a map definition the way BPF_MAP_CREATE does (kernel/bpf/syscall.c
 * map_create, then the type's map_alloc_check / map_alloc: arraymap.c,
 * hashtab.c, lpm_trie.c, queue_stack_maps.c, ringbuf.c, devmap.c, cpumap.c,
 * xskmap.c, map_in_map.c), and the adjustments libbpf makes to a definition
 * before it asks (tools/lib/bpf/libbpf.c). A refused definition is a
 * MapDefError naming the map, what was expected, and the kernel's errno.
 *
 * Sizes that depend on the kernel build are the x86-64 defaults (4 KiB pages,
 * KMALLOC_MAX_SIZE 4 MiB, NR_CPUS 8192); docs/maps.md lists them.
 */
import type { MapDef } from '../object/bpf-object.js';
import { Errno } from './bpf-map.js';
import { MapDefError } from './map-errors.js';
import { BPF_F_ACCESS_MASK, MAP_TYPE, MapFlag, mapFlagsText } from './map-types.js';

export const PAGE_SIZE = 4096;
/** KMALLOC_MAX_SIZE on x86-64 (1 << (MAX_PAGE_ORDER + PAGE_SHIFT)). */
export const KMALLOC_MAX_SIZE = 1 << 22;
/** PCPU_MIN_UNIT_SIZE (include/linux/percpu.h): the largest per-CPU value. */
export const PCPU_MIN_UNIT_SIZE = 32 << 10;
/** sizeof(struct htab_elem) on 64-bit (kernel/bpf/hashtab.c). */
const HTAB_ELEM_SIZE = 48;
/** lpm_trie.c: LPM_DATA_SIZE_MIN/MAX and sizeof(struct lpm_trie_node). */
const LPM_DATA_SIZE_MIN = 1;
const LPM_DATA_SIZE_MAX = 256;
const LPM_NODE_SIZE = 24;
export const LPM_VAL_SIZE_MAX = KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - LPM_NODE_SIZE;
/** ringbuf.c: RINGBUF_MAX_DATA_SZ = ((1 << 24) - RINGBUF_POS_PAGES - RINGBUF_PGOFF) * PAGE_SIZE. */
export const RINGBUF_MAX_DATA_SZ = ((1 << 24) - 2 - 1) * PAGE_SIZE;
/** CONFIG_NR_CPUS of Debian's x86-64 kernels: cpumap's max_entries bound. */
export const NR_CPUS = 8192;
/** cpumap.c: the sanity limit on a CPU entry's queue size. */
export const CPUMAP_MAX_QSIZE = 16384;

const INT_MAX = 0x7fffffff;
const U32_MAX = 0xffffffff;

/** round_up(x, 8): the stride of a map value (the kernel's elem_size). */
export function roundUp8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function isPowerOf2(n: number): boolean {
  return n > 0 && Number.isInteger(n) && Number.isInteger(Math.log2(n));
}

type Check = (def: MapDef, fail: (message: string, errno?: number) => never, cpus: number) => void;

// --------------------------------------------------------------- shared checks

/** syscall.c map_create: checks common to every type, before the type's own. */
function checkCommon(def: MapDef, fail: (m: string, e?: number) => never): void {
  for (const [field, v] of [['key_size', def.keySize], ['value_size', def.valueSize], ['max_entries', def.maxEntries], ['map_flags', def.flags]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > U32_MAX) fail(`${field} ${v}: expected a u32`);
  }
  // bpf_get_file_flag: a map cannot be both read-only and write-only for user space.
  if ((def.flags & MapFlag.RDONLY) !== 0 && (def.flags & MapFlag.WRONLY) !== 0) {
    fail(`flags ${mapFlagsText(def.flags)}: BPF_F_RDONLY and BPF_F_WRONLY exclude each other`);
  }
  if (def.mapExtra !== undefined && def.mapExtra !== 0) {
    fail(`map_extra ${def.mapExtra}: expected 0 (only bloom filters and arenas take map_extra)`);
  }
}

function checkFlags(def: MapDef, allowed: number, fail: (m: string, e?: number) => never): void {
  const extra = def.flags & ~allowed;
  if (extra !== 0) {
    fail(`flags ${mapFlagsText(def.flags)}: ${mapFlagsText(extra)} not allowed (allowed: ${allowed === 0 ? 'none' : mapFlagsText(allowed)})`);
  }
  // bpf_map_flags_access_ok
  if ((def.flags & MapFlag.RDONLY_PROG) !== 0 && (def.flags & MapFlag.WRONLY_PROG) !== 0) {
    fail(`flags ${mapFlagsText(def.flags)}: BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other`);
  }
}

const nonZeroMax = (def: MapDef, fail: (m: string, e?: number) => never): void => {
  if (def.maxEntries === 0) fail('max_entries 0: expected at least 1');
};

const ARRAY_FLAGS = MapFlag.NUMA_NODE | MapFlag.MMAPABLE | BPF_F_ACCESS_MASK | MapFlag.PRESERVE_ELEMS | MapFlag.INNER_MAP;

/** arraymap.c array_map_alloc_check. */
const checkArray: Check = (def, fail) => {
  const percpu = def.type === MAP_TYPE.PERCPU_ARRAY;
  nonZeroMax(def, fail);
  if (def.keySize !== 4) fail(`key_size ${def.keySize}: expected 4 (the key is a u32 index)`);
  if (def.valueSize === 0) fail('value_size 0: expected at least 1');
  checkFlags(def, ARRAY_FLAGS, fail);
  if (percpu && (def.flags & MapFlag.NUMA_NODE) !== 0) fail('BPF_F_NUMA_NODE: not allowed on a per-CPU array');
  if (def.type !== MAP_TYPE.ARRAY && (def.flags & (MapFlag.MMAPABLE | MapFlag.INNER_MAP)) !== 0) {
    fail(`flags ${mapFlagsText(def.flags)}: MMAPABLE and INNER_MAP are for BPF_MAP_TYPE_ARRAY only`);
  }
  if (def.type !== MAP_TYPE.PERF_EVENT_ARRAY && (def.flags & MapFlag.PRESERVE_ELEMS) !== 0) {
    fail('BPF_F_PRESERVE_ELEMS: for BPF_MAP_TYPE_PERF_EVENT_ARRAY only');
  }
  if (def.valueSize > INT_MAX) fail(`value_size ${def.valueSize}: expected at most ${INT_MAX}`, Errno.E2BIG);
  if (percpu && roundUp8(def.valueSize) > PCPU_MIN_UNIT_SIZE) {
    fail(`value_size ${def.valueSize}: a per-CPU value must fit ${PCPU_MIN_UNIT_SIZE} bytes`, Errno.E2BIG);
  }
};

/** arraymap.c fd_array_map_alloc_check: PROG_ARRAY, PERF_EVENT_ARRAY, ARRAY_OF_MAPS hold fds. */
const checkFdArray: Check = (def, fail, cpus) => {
  if (def.valueSize !== 4) fail(`value_size ${def.valueSize}: expected 4 (the value is a file descriptor)`);
  if ((def.flags & (MapFlag.RDONLY_PROG | MapFlag.WRONLY_PROG)) !== 0) {
    fail(`flags ${mapFlagsText(def.flags)}: RDONLY_PROG/WRONLY_PROG are not supported on fd arrays`);
  }
  checkArray(def, fail, cpus);
};

const HTAB_FLAGS = MapFlag.NO_PREALLOC | MapFlag.NO_COMMON_LRU | MapFlag.NUMA_NODE | BPF_F_ACCESS_MASK | MapFlag.ZERO_SEED;

/** hashtab.c htab_map_alloc_check, then htab_map_alloc's size limit. */
const checkHash: Check = (def, fail, cpus) => {
  const percpu = def.type === MAP_TYPE.PERCPU_HASH || def.type === MAP_TYPE.LRU_PERCPU_HASH;
  const lru = def.type === MAP_TYPE.LRU_HASH || def.type === MAP_TYPE.LRU_PERCPU_HASH;
  const percpuLru = (def.flags & MapFlag.NO_COMMON_LRU) !== 0;
  checkFlags(def, HTAB_FLAGS, fail);
  if (!lru && percpuLru) fail('BPF_F_NO_COMMON_LRU: for LRU hashes only');
  if (lru && (def.flags & MapFlag.NO_PREALLOC) !== 0) fail('BPF_F_NO_PREALLOC: an LRU hash is always preallocated', Errno.ENOTSUPP);
  if ((def.flags & MapFlag.NUMA_NODE) !== 0 && (percpu || percpuLru)) fail('BPF_F_NUMA_NODE: not allowed on per-CPU hashes or per-CPU LRU lists');
  nonZeroMax(def, fail);
  if (def.keySize === 0) fail('key_size 0: expected at least 1');
  if (def.valueSize === 0) fail('value_size 0: expected at least 1');
  if (def.keySize + def.valueSize >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) {
    fail(`key_size ${def.keySize} + value_size ${def.valueSize}: expected less than ${KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE}`, Errno.E2BIG);
  }
  if (percpu && roundUp8(def.valueSize) > PCPU_MIN_UNIT_SIZE) {
    fail(`value_size ${def.valueSize}: a per-CPU value must fit ${PCPU_MIN_UNIT_SIZE} bytes`, Errno.E2BIG);
  }
  if (hashCapacity(def, cpus) > 2 ** 31) fail(`max_entries ${def.maxEntries}: expected at most 2^31`, Errno.E2BIG);
};

/** hashtab.c fd_htab_map_alloc_check (HASH_OF_MAPS). */
const checkFdHash: Check = (def, fail, cpus) => {
  if (def.valueSize !== 4) fail(`value_size ${def.valueSize}: expected 4 (the value is a map file descriptor)`);
  checkHash(def, fail, cpus);
};

const checkMapInMap = (base: Check): Check => (def, fail, cpus) => {
  base(def, fail, cpus);
  // map_in_map.c bpf_map_meta_alloc: the inner map template (inner_map_fd).
  const inner = def.inner;
  if (inner === undefined) return fail('no inner map template: expected __array(values, struct { ... }) in the definition');
  if (inner.type === MAP_TYPE.ARRAY_OF_MAPS || inner.type === MAP_TYPE.HASH_OF_MAPS) {
    fail('the inner map is itself a map-in-map: only one level of nesting is supported');
  }
};

const LPM_FLAGS = MapFlag.NO_PREALLOC | MapFlag.NUMA_NODE | BPF_F_ACCESS_MASK;

/** lpm_trie.c trie_alloc. */
const checkLpm: Check = (def, fail) => {
  nonZeroMax(def, fail);
  if ((def.flags & MapFlag.NO_PREALLOC) === 0) fail('flags: expected BPF_F_NO_PREALLOC (an LPM trie is never preallocated)');
  checkFlags(def, LPM_FLAGS, fail);
  if (def.keySize < 4 + LPM_DATA_SIZE_MIN || def.keySize > 4 + LPM_DATA_SIZE_MAX) {
    fail(`key_size ${def.keySize}: expected 4 + ${LPM_DATA_SIZE_MIN}..${LPM_DATA_SIZE_MAX} (a u32 prefix length, then the data bytes)`);
  }
  if (def.valueSize < 1 || def.valueSize > LPM_VAL_SIZE_MAX) fail(`value_size ${def.valueSize}: expected 1..${LPM_VAL_SIZE_MAX}`);
};

/** queue_stack_maps.c queue_stack_map_alloc_check. */
const checkQueueStack: Check = (def, fail) => {
  nonZeroMax(def, fail);
  if (def.keySize !== 0) fail(`key_size ${def.keySize}: expected 0 (queues and stacks have no key)`);
  if (def.valueSize === 0) fail('value_size 0: expected at least 1');
  checkFlags(def, MapFlag.NUMA_NODE | BPF_F_ACCESS_MASK, fail);
  if (def.valueSize > KMALLOC_MAX_SIZE) fail(`value_size ${def.valueSize}: expected at most ${KMALLOC_MAX_SIZE}`, Errno.E2BIG);
};

/** ringbuf.c ringbuf_map_alloc. */
const checkRingbuf: Check = (def, fail) => {
  checkFlags(def, MapFlag.NUMA_NODE, fail);
  if (def.keySize !== 0 || def.valueSize !== 0) {
    fail(`key_size ${def.keySize}, value_size ${def.valueSize}: expected 0 and 0 (a ring buffer has no keys or values)`);
  }
  if (!isPowerOf2(def.maxEntries) || def.maxEntries % PAGE_SIZE !== 0) {
    fail(`max_entries ${def.maxEntries}: expected a power of 2 multiple of the ${PAGE_SIZE}-byte page size`);
  }
  if (def.maxEntries > RINGBUF_MAX_DATA_SZ) fail(`max_entries ${def.maxEntries}: expected at most ${RINGBUF_MAX_DATA_SZ}`, Errno.E2BIG);
};

/** devmap.c dev_map_alloc_check / dev_map_init_map. */
const checkDevmap: Check = (def, fail) => {
  nonZeroMax(def, fail);
  if (def.keySize !== 4) fail(`key_size ${def.keySize}: expected 4`);
  if (def.valueSize !== 4 && def.valueSize !== 8) {
    fail(`value_size ${def.valueSize}: expected 4 (ifindex) or 8 (struct bpf_devmap_val: ifindex, program fd)`);
  }
  checkFlags(def, MapFlag.NUMA_NODE | MapFlag.RDONLY | MapFlag.WRONLY, fail);
};

/** cpumap.c cpu_map_alloc. */
const checkCpumap: Check = (def, fail) => {
  nonZeroMax(def, fail);
  if (def.keySize !== 4) fail(`key_size ${def.keySize}: expected 4 (a CPU number)`);
  if (def.valueSize !== 4 && def.valueSize !== 8) {
    fail(`value_size ${def.valueSize}: expected 4 (qsize) or 8 (struct bpf_cpumap_val: qsize, program fd)`);
  }
  checkFlags(def, MapFlag.NUMA_NODE, fail);
  if (def.maxEntries > NR_CPUS) fail(`max_entries ${def.maxEntries}: expected at most NR_CPUS (${NR_CPUS})`, Errno.E2BIG);
};

/** xskmap.c xsk_map_alloc. */
const checkXskmap: Check = (def, fail) => {
  nonZeroMax(def, fail);
  if (def.keySize !== 4) fail(`key_size ${def.keySize}: expected 4`);
  if (def.valueSize !== 4) fail(`value_size ${def.valueSize}: expected 4 (an AF_XDP socket fd)`);
  checkFlags(def, MapFlag.NUMA_NODE | MapFlag.RDONLY | MapFlag.WRONLY, fail);
};

/** The kernel's checks per map type (the types the host implements). */
export const MAP_CHECKS: Readonly<Record<number, Check>> = {
  [MAP_TYPE.ARRAY]: checkArray,
  [MAP_TYPE.PERCPU_ARRAY]: checkArray,
  [MAP_TYPE.PROG_ARRAY]: checkFdArray,
  [MAP_TYPE.PERF_EVENT_ARRAY]: checkFdArray,
  [MAP_TYPE.ARRAY_OF_MAPS]: checkMapInMap(checkFdArray),
  [MAP_TYPE.HASH]: checkHash,
  [MAP_TYPE.PERCPU_HASH]: checkHash,
  [MAP_TYPE.LRU_HASH]: checkHash,
  [MAP_TYPE.LRU_PERCPU_HASH]: checkHash,
  [MAP_TYPE.HASH_OF_MAPS]: checkMapInMap(checkFdHash),
  [MAP_TYPE.LPM_TRIE]: checkLpm,
  [MAP_TYPE.QUEUE]: checkQueueStack,
  [MAP_TYPE.STACK]: checkQueueStack,
  [MAP_TYPE.RINGBUF]: checkRingbuf,
  [MAP_TYPE.DEVMAP]: checkDevmap,
  [MAP_TYPE.DEVMAP_HASH]: checkDevmap,
  [MAP_TYPE.CPUMAP]: checkCpumap,
  [MAP_TYPE.XSKMAP]: checkXskmap,
};

/**
 * Throw a MapDefError when BPF_MAP_CREATE would refuse `def` (with `cpus`
 * possible CPUs). Types without an entry in MAP_CHECKS are the caller's to refuse.
 */
export function validateMapDef(def: MapDef, cpus: number): void {
  const fail = (message: string, errno: number = Errno.EINVAL): never => {
    throw new MapDefError(def, message, errno);
  };
  checkCommon(def, fail);
  MAP_CHECKS[def.type]?.(def, fail, cpus);
}

/**
 * The number of elements a hash holds: max_entries, except that with
 * BPF_F_NO_COMMON_LRU the kernel rounds it to a multiple of the CPU count so
 * that every CPU's LRU list gets the same share (htab_map_alloc).
 */
export function hashCapacity(def: Pick<MapDef, 'flags' | 'maxEntries' | 'type'>, cpus: number): number {
  if ((def.flags & MapFlag.NO_COMMON_LRU) === 0) return def.maxEntries;
  const up = Math.ceil(def.maxEntries / cpus) * cpus;
  return up > U32_MAX ? Math.floor(def.maxEntries / cpus) * cpus : up;
}

/** libbpf's adjust_ringbuf_sz: the smallest power-of-2 multiple of the page size >= `size` (0 stays 0). */
export function adjustRingbufSize(size: number): number {
  if (size === 0) return 0;
  if (size % PAGE_SIZE === 0 && isPowerOf2(size / PAGE_SIZE)) return size;
  for (let mul = 1; mul <= Math.floor(U32_MAX / PAGE_SIZE); mul *= 2) {
    if (mul * PAGE_SIZE > size) return mul * PAGE_SIZE;
  }
  return size;
}

/**
 * The definition libbpf actually hands to BPF_MAP_CREATE: a PERF_EVENT_ARRAY
 * without max_entries gets one slot per possible CPU, a RINGBUF's size is rounded
 * up to a power-of-2 multiple of the page size (libbpf.c: map_set_def_max_entries,
 * adjust_ringbuf_sz). Everything else is passed through unchanged.
 */
export function libbpfMapDef(def: MapDef, cpus: number): MapDef {
  if (def.type === MAP_TYPE.PERF_EVENT_ARRAY && def.maxEntries === 0) return { ...def, maxEntries: cpus };
  if (def.type === MAP_TYPE.RINGBUF) {
    const size = adjustRingbufSize(def.maxEntries);
    if (size !== def.maxEntries) return { ...def, maxEntries: size };
  }
  return def;
}

/**
 * Map type numbers of the kernel's `enum bpf_map_type` (include/uapi/linux/bpf.h),
 * as a table from number to name. Numbers are ABI and never change.
 */

export const MAP_TYPE_NAMES: readonly string[] = [
  'UNSPEC', 'HASH', 'ARRAY', 'PROG_ARRAY', 'PERF_EVENT_ARRAY', 'PERCPU_HASH', 'PERCPU_ARRAY', 'STACK_TRACE',
  'CGROUP_ARRAY', 'LRU_HASH', 'LRU_PERCPU_HASH', 'LPM_TRIE', 'ARRAY_OF_MAPS', 'HASH_OF_MAPS', 'DEVMAP', 'SOCKMAP',
  'CPUMAP', 'XSKMAP', 'SOCKHASH', 'CGROUP_STORAGE', 'REUSEPORT_SOCKARRAY', 'PERCPU_CGROUP_STORAGE', 'QUEUE', 'STACK',
  'SK_STORAGE', 'DEVMAP_HASH', 'STRUCT_OPS', 'RINGBUF', 'INODE_STORAGE', 'TASK_STORAGE', 'BLOOM_FILTER',
  'USER_RINGBUF', 'CGRP_STORAGE', 'ARENA',
];

export const MapType = Object.fromEntries(MAP_TYPE_NAMES.map((n, i) => [n, i])) as Readonly<Record<string, number>>;

export const MAP_TYPE = {
  HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6, LRU_HASH: 9,
  LRU_PERCPU_HASH: 10, LPM_TRIE: 11, ARRAY_OF_MAPS: 12, HASH_OF_MAPS: 13, DEVMAP: 14, CPUMAP: 16, XSKMAP: 17,
  QUEUE: 22, STACK: 23, DEVMAP_HASH: 25, RINGBUF: 27,
} as const;

export function mapTypeName(type: number): string {
  return MAP_TYPE_NAMES[type] ?? `unknown(${type})`;
}

/** Map flags of include/uapi/linux/bpf.h that a dump shows by name. */
export const MAP_FLAG_NAMES: readonly (readonly [number, string])[] = [
  [1 << 0, 'NO_PREALLOC'], [1 << 1, 'NO_COMMON_LRU'], [1 << 2, 'NUMA_NODE'], [1 << 3, 'RDONLY'],
  [1 << 4, 'WRONLY'], [1 << 5, 'STACK_BUILD_ID'], [1 << 6, 'ZERO_SEED'], [1 << 7, 'RDONLY_PROG'],
  [1 << 8, 'WRONLY_PROG'], [1 << 9, 'CLONE'], [1 << 10, 'MMAPABLE'], [1 << 11, 'PRESERVE_ELEMS'],
  [1 << 12, 'INNER_MAP'], [1 << 13, 'LINK'], [1 << 14, 'PATH_FD'], [1 << 15, 'VTYPE_BTF_OBJ_FD'],
  [1 << 16, 'TOKEN_FD'], [1 << 17, 'SEGV_ON_FAULT'], [1 << 18, 'NO_USER_CONV'],
];

export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_MMAPABLE = 1 << 10;

/** Every map-creation flag of include/uapi/linux/bpf.h by name (BPF_F_*). */
export const MapFlag = {
  NO_PREALLOC: 1 << 0, NO_COMMON_LRU: 1 << 1, NUMA_NODE: 1 << 2, RDONLY: 1 << 3, WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5, ZERO_SEED: 1 << 6, RDONLY_PROG: 1 << 7, WRONLY_PROG: 1 << 8, CLONE: 1 << 9,
  MMAPABLE: 1 << 10, PRESERVE_ELEMS: 1 << 11, INNER_MAP: 1 << 12,
} as const;

/** BPF_F_ACCESS_MASK (include/linux/bpf.h): the user and program access flags. */
export const BPF_F_ACCESS_MASK = MapFlag.RDONLY | MapFlag.RDONLY_PROG | MapFlag.WRONLY | MapFlag.WRONLY_PROG;

export function mapFlagsText(flags: number): string {
  if (flags === 0) return '0';
  const names = MAP_FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, n]) => n);
  const known = MAP_FLAG_NAMES.reduce((acc, [bit]) => acc | bit, 0);
  const rest = flags & ~known;
  if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`);
  return names.join('|');
}

/**
 * The bpf(2) syscall, command by command, through koffi (see ffi.ts).
 *
 * Every command fills `union bpf_attr` (include/uapi/linux/bpf.h) in zeroed
 * native memory, field by field at the offsets below, little-endian (the byte
 * order of x64 and arm64, the only hosts ffi.ts knows the syscall number of),
 * and passes the size of the part it uses. The kernel requires every byte past the fields it knows to be
 * zero (bpf_check_uarg_tail_zero), so a zeroed attr of a newer layout works on
 * an older kernel as long as the new fields stay zero.
 *
 * Offsets were read from include/uapi/linux/bpf.h (Linux 6.18) and checked
 * against offsetof() on this machine's /usr/include/linux/bpf.h:
 *
 *   BPF_MAP_CREATE (72 bytes used): map_type 0, key_size 4, value_size 8,
 *     max_entries 12, map_flags 16, inner_map_fd 20, numa_node 24,
 *     map_name[16] 28, map_ifindex 44, btf_fd 48, btf_key_type_id 52,
 *     btf_value_type_id 56, btf_vmlinux_value_type_id 60, map_extra (u64) 64
 *   BPF_MAP_{LOOKUP,UPDATE,DELETE}_ELEM, BPF_MAP_GET_NEXT_KEY, BPF_MAP_FREEZE
 *     (32): map_fd 0, key (ptr) 8, value / next_key (ptr) 16, flags (u64) 24
 *   BPF_PROG_LOAD (144): prog_type 0, insn_cnt 4, insns 8, license 16,
 *     log_level 24, log_size 28, log_buf 32, kern_version 40, prog_flags 44,
 *     prog_name[16] 48, prog_ifindex 64, expected_attach_type 68,
 *     prog_btf_fd 72, func_info_rec_size 76, func_info 80, func_info_cnt 88,
 *     line_info_rec_size 92, line_info 96, line_info_cnt 104,
 *     attach_btf_id 108, attach_prog_fd 112, core_relo_cnt 116, fd_array 120,
 *     core_relos 128, core_relo_rec_size 136, log_true_size 140 (out, 6.4+)
 *   BPF_PROG_TEST_RUN (80, `attr.test`): prog_fd 0, retval 4 (out),
 *     data_size_in 8, data_size_out 12 (in/out), data_in 16, data_out 24,
 *     repeat 32, duration 36 (out), ctx_size_in 40, ctx_size_out 44 (in/out),
 *     ctx_in 48, ctx_out 56, flags 64, cpu 68, batch_size 72
 *   BPF_OBJ_GET_INFO_BY_FD (16, `attr.info`): bpf_fd 0, info_len 4, info 8
 *   BPF_BTF_LOAD (32): btf 0, btf_log_buf 8, btf_size 16, btf_log_size 20,
 *     btf_log_level 24, btf_log_true_size 28 (out, 6.4+)
 *
 * Pointers are `__aligned_u64` user addresses; here they are addresses of
 * koffi-allocated blocks that live until the call returns.
 */
import { readFileSync } from 'node:fs';
import { KernelError, ERRNO } from './kernel-error.js';
import { NativeArena, openLibc, type Libc, type NativeBlock } from './ffi.js';

export { KernelError, errnoName, ERRNO } from './kernel-error.js';
export { bpfSyscallNumber } from './ffi.js';

/** enum bpf_cmd (the commands used here). */
export const BPF_CMD = {
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5,
  PROG_TEST_RUN: 10,
  OBJ_GET_INFO_BY_FD: 15,
  BTF_LOAD: 18,
  MAP_FREEZE: 22,
} as const;
export type BpfCommand = keyof typeof BPF_CMD;

/** enum bpf_prog_type / bpf_attach_type values used here. */
export const BPF_PROG_TYPE_XDP = 6;
export const BPF_ATTACH = { XDP_DEVMAP: 33, XDP_CPUMAP: 35, XDP: 37 } as const;
/** BPF_PROG_LOAD prog_flags. */
export const BPF_F_XDP_HAS_FRAGS = 1 << 5;
/** BPF_PROG_TEST_RUN flags. */
export const BPF_F_TEST_RUN_ON_CPU = 1 << 0;
export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
/** BPF_MAP_UPDATE_ELEM flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

/** BPF_OBJ_NAME_LEN: names are at most 15 bytes plus the NUL. */
export const BPF_OBJ_NAME_LEN = 16;
/** Size of struct bpf_prog_info (Linux 6.18). */
const PROG_INFO_SIZE = 232;
/** Size of struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex. */
export const XDP_MD_SIZE = 24;
/** The default verifier log buffer: 16 MiB (the kernel accepts up to UINT_MAX >> 2 since 6.4). */
export const DEFAULT_LOG_SIZE = 16 << 20;

const ATTR_SIZE = { MAP_CREATE: 72, MAP_ELEM: 32, PROG_LOAD: 144, TEST_RUN: 80, INFO: 16, BTF_LOAD: 32 } as const;

/**
 * A name the kernel accepts (bpf_obj_name_cpy in kernel/bpf/syscall.c): at most
 * 15 bytes of [A-Za-z0-9_.]; anything else becomes '_'.
 */
export function kernelObjectName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, BPF_OBJ_NAME_LEN - 1);
}

function writeName(b: NativeBlock, at: number, name: string | undefined): void {
  if (!name) return;
  const n = kernelObjectName(name);
  for (let i = 0; i < n.length; i++) b.view.setUint8(at + i, n.charCodeAt(i));
}

const u32 = (b: NativeBlock, at: number, v: number): void => b.view.setUint32(at, v >>> 0, true);
const u64 = (b: NativeBlock, at: number, v: bigint): void => b.view.setBigUint64(at, BigInt.asUintN(64, v), true);
const ptr = (b: NativeBlock, at: number, target: NativeBlock | undefined): void => u64(b, at, target ? target.address : 0n);

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.buffer, bytes.byteOffset, end < 0 ? bytes.length : end).toString('utf8');
}

/** Run one command; on failure throw a KernelError (with `log` when given one). */
function call(c: Libc, cmd: BpfCommand, attr: NativeBlock, size: number, what?: string, log?: () => string): number {
  const { result, errno } = c.bpf(BPF_CMD[cmd], attr, size);
  if (result < 0) {
    const text = log?.();
    throw new KernelError({ command: `BPF_${cmd}`, errno, ...(what ? { what } : {}), ...(text ? { log: text } : {}) });
  }
  return result;
}

function withArena<T>(fn: (arena: NativeArena, c: Libc) => T): T {
  const c = openLibc();
  const arena = new NativeArena(c);
  try {
    return fn(arena, c);
  } finally {
    arena.free();
  }
}

// ---------------------------------------------------------------- maps

export interface MapCreateOptions {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  /** Template map of a map-in-map (ARRAY_OF_MAPS / HASH_OF_MAPS). */
  readonly innerMapFd?: number;
  readonly numaNode?: number;
  readonly name?: string;
  readonly ifindex?: number;
  readonly btfFd?: number;
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
  readonly mapExtra?: bigint | number;
}

/** BPF_MAP_CREATE → the new map's fd. */
export function mapCreate(o: MapCreateOptions): number {
  return withArena((arena, c) => {
    const a = arena.alloc(ATTR_SIZE.MAP_CREATE);
    u32(a, 0, o.type);
    u32(a, 4, o.keySize);
    u32(a, 8, o.valueSize);
    u32(a, 12, o.maxEntries);
    u32(a, 16, o.flags ?? 0);
    u32(a, 20, o.innerMapFd ?? 0);
    u32(a, 24, o.numaNode ?? 0);
    writeName(a, 28, o.name);
    u32(a, 44, o.ifindex ?? 0);
    u32(a, 48, o.btfFd ?? 0);
    u32(a, 52, o.btfKeyTypeId ?? 0);
    u32(a, 56, o.btfValueTypeId ?? 0);
    u64(a, 64, BigInt(o.mapExtra ?? 0));
    return call(c, 'MAP_CREATE', a, ATTR_SIZE.MAP_CREATE, o.name ? `map '${o.name}'` : undefined);
  });
}

/**
 * BPF_OBJ_GET_INFO_BY_FD for a map. struct bpf_map_info offsets: type 0, id 4, key_size 8,
 * value_size 12, max_entries 16, map_flags 20, name[16] 24.
 */
export interface MapInfo {
  readonly type: number;
  readonly id: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
}

const MAP_INFO_SIZE = 40;

/** BPF_OBJ_GET_INFO_BY_FD into a `size`-byte info struct (the kernel fills at most that much), read by `read`. */
function objInfo<T>(fd: number, size: number, what: string, read: (info: NativeBlock) => T): T {
  return withArena((arena, c) => {
    const a = arena.alloc(ATTR_SIZE.INFO);
    const info = arena.alloc(size);
    u32(a, 0, fd);
    u32(a, 4, size);
    ptr(a, 8, info);
    call(c, 'OBJ_GET_INFO_BY_FD', a, ATTR_SIZE.INFO, `${what} fd ${fd}`);
    return read(info);
  });
}

export function mapInfo(fd: number): MapInfo {
  return objInfo(fd, MAP_INFO_SIZE, 'map', (info) => {
    const v = info.view;
    return {
      type: v.getUint32(0, true), id: v.getUint32(4, true), keySize: v.getUint32(8, true), valueSize: v.getUint32(12, true),
      maxEntries: v.getUint32(16, true), flags: v.getUint32(20, true), name: cString(info.bytes.subarray(24, 40)),
    };
  });
}

/** Map types whose user-space value holds one slot per possible CPU (bpf_percpu_*_copy). */
const PER_CPU_MAP_TYPES: ReadonlySet<number> = new Set([5, 6, 10, 21]); // PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE

/**
 * The bytes a lookup writes and an update reads for map `fd`, from the kernel's own numbers: its
 * value_size, and for per-CPU maps round_up(value_size, 8) × the possible CPUs.
 */
export function mapValueBytes(fd: number): { readonly keySize: number; readonly valueBytes: number } {
  const info = mapInfo(fd);
  const valueBytes = PER_CPU_MAP_TYPES.has(info.type) ? perCpuValueBytes(info.valueSize, possibleCpus()) : info.valueSize;
  return { keySize: info.keySize, valueBytes };
}

/** A buffer handed to bpf() that is not the size the kernel will read or write: a bug here, never the user's. */
export class BufferSizeError extends Error {
  constructor(what: string, fd: number, got: number, want: number) {
    super(`${what} for map fd ${fd}: ${got} bytes, the kernel uses ${want}`);
    this.name = 'BufferSizeError';
  }
}

/**
 * BPF_MAP_LOOKUP_ELEM. The value buffer is sized from the map's own numbers (mapValueBytes), and a
 * caller's `valueBytes` that differs is refused before the call: the kernel would write past it.
 * A missing key is a KernelError with errno ENOENT.
 */
export function mapLookup(fd: number, key: Uint8Array, valueBytes?: number, flags = 0): Uint8Array {
  const want = mapValueBytes(fd);
  if (key.length !== want.keySize) throw new BufferSizeError('lookup key', fd, key.length, want.keySize);
  if (valueBytes !== undefined && valueBytes !== want.valueBytes) throw new BufferSizeError('lookup value', fd, valueBytes, want.valueBytes);
  return withArena((arena, c) => {
    const a = arena.alloc(ATTR_SIZE.MAP_ELEM);
    const k = arena.copyIn(key);
    const v = arena.alloc(want.valueBytes);
    u32(a, 0, fd);
    ptr(a, 8, k);
    ptr(a, 16, v);
    u64(a, 24, BigInt(flags));
    call(c, 'MAP_LOOKUP_ELEM', a, ATTR_SIZE.MAP_ELEM);
    return v.bytes.slice(0, want.valueBytes);
  });
}

/**
 * BPF_MAP_UPDATE_ELEM with BPF_ANY / BPF_NOEXIST / BPF_EXIST (full HASH map: E2BIG; existing key
 * with NOEXIST: EEXIST). Key and value must be the sizes the kernel reads (mapValueBytes).
 */
export function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
  const want = mapValueBytes(fd);
  if (key.length !== want.keySize) throw new BufferSizeError('update key', fd, key.length, want.keySize);
  if (value.length !== want.valueBytes) throw new BufferSizeError('update value', fd, value.length, want.valueBytes);
  withArena((arena, c) => {
    const a = arena.alloc(ATTR_SIZE.MAP_ELEM);
    u32(a, 0, fd);
    ptr(a, 8, arena.copyIn(key));
    ptr(a, 16, arena.copyIn(value));
    u64(a, 24, BigInt(flags));
    call(c, 'MAP_UPDATE_ELEM', a, ATTR_SIZE.MAP_ELEM);
  });
}

/** BPF_MAP_DELETE_ELEM (missing key: ENOENT; array maps: EINVAL). */
export function mapDelete(fd: number, key: Uint8Array): void {
  const want = mapValueBytes(fd);
  if (key.length !== want.keySize) throw new BufferSizeError('delete key', fd, key.length, want.keySize);
  withArena((arena, c) => {
    const a = arena.alloc(ATTR_SIZE.MAP_ELEM);
    u32(a, 0, fd);
    ptr(a, 8, arena.copyIn(key));
    call(c, 'MAP_DELETE_ELEM', a, ATTR_SIZE.MAP_ELEM);
  });
}

/**
 * BPF_MAP_GET_NEXT_KEY: the key after `key` (the first key when `key` is
 * undefined, or when `key` is not in a hash map), undefined after the last.
 */
export function mapGetNextKey(fd: number, key: Uint8Array | undefined, keySize: number): Uint8Array | undefined {
  const want = mapValueBytes(fd);
  if (keySize !== want.keySize || (key && key.length !== want.keySize)) throw new BufferSizeError('next key', fd, key?.length ?? keySize, want.keySize);
  return withArena((arena, c) => {
    const a = arena.alloc(ATTR_SIZE.MAP_ELEM);
    const next = arena.alloc(keySize);
    u32(a, 0, fd);
    ptr(a, 8, key ? arena.copyIn(key) : undefined);
    ptr(a, 16, next);
    const { result, errno } = c.bpf(BPF_CMD.MAP_GET_NEXT_KEY, a, ATTR_SIZE.MAP_ELEM);
    if (result < 0) {
      if (errno === ERRNO.ENOENT) return undefined;
      throw new KernelError({ command: 'BPF_MAP_GET_NEXT_KEY', errno });
    }
    return next.bytes.slice(0, keySize);
  });
}

/** BPF_MAP_FREEZE: user space can no longer write the map (the program's view is set by BPF_F_RDONLY_PROG). */
export function mapFreeze(fd: number): void {
  withArena((arena, c) => {
    const a = arena.alloc(ATTR_SIZE.MAP_ELEM);
    u32(a, 0, fd);
    call(c, 'MAP_FREEZE', a, ATTR_SIZE.MAP_ELEM);
  });
}

// ---------------------------------------------------------------- CPUs

/** Parse a kernel CPU list ("0-3,8,10-11") into the number of CPUs it names. */
export function countCpuList(text: string): number {
  let n = 0;
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`not a CPU list: '${text.trim()}'`);
    n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return n;
}

/**
 * Number of possible CPUs (/sys/devices/system/cpu/possible): per-CPU map
 * values hold one slot per possible CPU (for_each_possible_cpu in
 * kernel/bpf/syscall.c, bpf_percpu_*_copy).
 */
export function possibleCpus(): number {
  return countCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
}

/** Bytes of a per-CPU value buffer as the syscall reads and writes it: round_up(value_size, 8) × CPUs. */
export function perCpuValueBytes(valueSize: number, cpus: number): number {
  return Math.ceil(valueSize / 8) * 8 * cpus;
}

// ---------------------------------------------------------------- BTF

export interface LoadResult {
  readonly fd: number;
  /** The log the kernel wrote ('' with log level 0). */
  readonly log: string;
}

/**
 * BPF_BTF_LOAD of raw BTF (header, types, strings). Loaded without a log first;
 * a refusal is retried with log level 1 so the KernelError says why.
 */
export function btfLoad(raw: Uint8Array, logSize = 1 << 20): LoadResult {
  return withArena((arena, c) => {
    const data = arena.copyIn(raw);
    const attempt = (level: number) => {
      const a = arena.alloc(ATTR_SIZE.BTF_LOAD);
      const log = level > 0 ? arena.alloc(logSize) : undefined;
      ptr(a, 0, data);
      ptr(a, 8, log);
      u32(a, 16, raw.length);
      u32(a, 20, log ? logSize : 0);
      u32(a, 24, level);
      return { ...c.bpf(BPF_CMD.BTF_LOAD, a, ATTR_SIZE.BTF_LOAD), log: log ? cString(log.bytes) : '' };
    };
    let r = attempt(0);
    if (r.result < 0) r = attempt(1);
    if (r.result < 0) throw new KernelError({ command: 'BPF_BTF_LOAD', errno: r.errno, log: r.log });
    return { fd: r.result, log: r.log };
  });
}

// ---------------------------------------------------------------- programs

export interface ProgBtf {
  readonly fd: number;
  /** struct bpf_func_info records { u32 insn_off; u32 type_id } (insn_off in instructions). */
  readonly funcInfo: Uint8Array;
  readonly funcInfoCount: number;
  /** struct bpf_line_info records { u32 insn_off; u32 file_name_off; u32 line_off; u32 line_col }. */
  readonly lineInfo: Uint8Array;
  readonly lineInfoCount: number;
}

export interface ProgLoadOptions {
  /** Encoded instructions (8 bytes each, host byte order). */
  readonly insns: Uint8Array;
  readonly license: string;
  readonly progType?: number;
  readonly expectedAttachType?: number;
  readonly progFlags?: number;
  readonly name?: string;
  /** 0 = no log, 1 = the verifier's walk (BPF_LOG_LEVEL1), 2 = every instruction, |4 = statistics. Default 1. */
  readonly logLevel?: number;
  readonly logSize?: number;
  /** fds the program's `lddw` src 5/6 (BPF_PSEUDO_MAP_IDX / _IDX_VALUE) imm index into. */
  readonly fdArray?: readonly number[];
  readonly btf?: ProgBtf;
  /** Names the program in the error (e.g. the ELF section). */
  readonly what?: string;
}

export interface ProgLoadResult extends LoadResult {
  /** The log did not fit the buffer: `log` holds its end (the kernel's rotating log keeps the tail). */
  readonly logTruncated: boolean;
}

/**
 * BPF_PROG_LOAD. The verifier log is captured (log level 1 by default) and is
 * part of the KernelError on refusal.
 *
 * Since Linux 6.4 a log that does not fit the buffer makes the load fail with
 * ENOSPC even when the program is fine (log_true_size says how big it was).
 * Then the load is repeated without a log to learn the real verdict, and the
 * end of the log (which holds the final message) is kept.
 */
export function progLoad(o: ProgLoadOptions): ProgLoadResult {
  return withArena((arena, c) => {
    const insns = arena.copyIn(o.insns);
    const license = arena.copyIn(Buffer.from(`${o.license}\0`, 'utf8'));
    const fdArray = o.fdArray && o.fdArray.length > 0 ? arena.alloc(o.fdArray.length * 4) : undefined;
    o.fdArray?.forEach((fd, i) => u32(fdArray!, i * 4, fd));
    const funcInfo = o.btf ? arena.copyIn(o.btf.funcInfo) : undefined;
    const lineInfo = o.btf && o.btf.lineInfoCount > 0 ? arena.copyIn(o.btf.lineInfo) : undefined;
    const logSize = o.logSize ?? DEFAULT_LOG_SIZE;
    const logLevel = o.logLevel ?? 1;
    const logBlock = logLevel > 0 ? arena.alloc(logSize) : undefined;

    const attempt = (level: number) => {
      const a = arena.alloc(ATTR_SIZE.PROG_LOAD);
      u32(a, 0, o.progType ?? BPF_PROG_TYPE_XDP);
      u32(a, 4, o.insns.length / 8);
      ptr(a, 8, insns);
      ptr(a, 16, license);
      if (level > 0 && logBlock) {
        logBlock.bytes.fill(0);
        u32(a, 24, level);
        u32(a, 28, logSize);
        ptr(a, 32, logBlock);
      }
      u32(a, 44, o.progFlags ?? 0);
      writeName(a, 48, o.name);
      u32(a, 68, o.expectedAttachType ?? 0);
      if (o.btf) {
        u32(a, 72, o.btf.fd);
        u32(a, 76, 8);
        ptr(a, 80, funcInfo);
        u32(a, 88, o.btf.funcInfoCount);
        if (lineInfo) {
          u32(a, 92, 16);
          ptr(a, 96, lineInfo);
          u32(a, 104, o.btf.lineInfoCount);
        }
      }
      ptr(a, 120, fdArray);
      let r = c.bpf(BPF_CMD.PROG_LOAD, a, ATTR_SIZE.PROG_LOAD);
      // libbpf retries EAGAIN a few times too (the verifier can ask for it under memory pressure).
      for (let i = 0; i < 5 && r.result < 0 && r.errno === ERRNO.EAGAIN; i++) r = c.bpf(BPF_CMD.PROG_LOAD, a, ATTR_SIZE.PROG_LOAD);
      const trueSize = a.view.getUint32(140, true);
      return { ...r, log: level > 0 && logBlock ? cString(logBlock.bytes) : '', truncated: level > 0 && trueSize > logSize };
    };

    const what = o.what ?? (o.name ? `program '${o.name}'` : undefined);
    const first = attempt(logLevel);
    let final = first;
    if (first.result < 0 && first.errno === ERRNO.ENOSPC && first.truncated) {
      const again = attempt(0);
      final = { ...again, log: logTail(first.log), truncated: true };
    }
    if (final.result < 0) {
      throw new KernelError({ command: 'BPF_PROG_LOAD', errno: final.errno, ...(what ? { what } : {}), log: final.log });
    }
    return { fd: final.result, log: final.log, logTruncated: final.truncated };
  });
}

/** Kept of a log that overflowed its buffer: its last MiB, from a line start (the final verdict is there). */
const TRUNCATED_LOG_KEEP = 1 << 20;
function logTail(log: string): string {
  if (log.length <= TRUNCATED_LOG_KEEP) return log;
  const tail = log.slice(-TRUNCATED_LOG_KEEP);
  const nl = tail.indexOf('\n');
  return nl < 0 ? tail : tail.slice(nl + 1);
}

// ---------------------------------------------------------------- test runs

export interface TestRunOptions {
  /** data_in: the packet. */
  readonly data: Uint8Array;
  /** ctx_in (for XDP a struct xdp_md, see `xdpMd`). */
  readonly ctxIn?: Uint8Array;
  /**
   * Room for data_out; default data.length + 4096 (a program may grow the packet).
   * 0 passes no data_out at all (BPF_F_TEST_XDP_LIVE_FRAMES requires that).
   */
  readonly dataOutSize?: number;
  readonly repeat?: number;
  readonly flags?: number;
  readonly cpu?: number;
  readonly batchSize?: number;
}

export interface TestRunResult {
  readonly retval: number;
  /** data_out, data_size_out bytes long: the packet after the program. */
  readonly dataOut: Uint8Array;
  /** ctx_out when ctx_in was given: the xdp_md after the run (data_end - data = new length). */
  readonly ctxOut?: Uint8Array;
  /** Average nanoseconds per run over `repeat` runs (attr.test.duration). */
  readonly durationNs: number;
}

/** struct xdp_md for ctx_in: data 0, data_end = length, data_meta 0, then the three ifindex/queue fields. */
export function xdpMd(f: {
  dataLength: number; ingressIfindex?: number; rxQueueIndex?: number; egressIfindex?: number; dataMeta?: number; data?: number;
}): Uint8Array {
  const b = new Uint8Array(XDP_MD_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, f.data ?? 0, true);
  v.setUint32(4, f.dataLength, true);
  v.setUint32(8, f.dataMeta ?? 0, true);
  v.setUint32(12, f.ingressIfindex ?? 0, true);
  v.setUint32(16, f.rxQueueIndex ?? 0, true);
  v.setUint32(20, f.egressIfindex ?? 0, true);
  return b;
}

/**
 * BPF_PROG_TEST_RUN for one program, with native buffers kept between runs
 * (a replay calls it once per packet). `close()` frees them; it does not close
 * the program.
 */
export class TestRunner {
  private readonly c: Libc;
  private readonly arena: NativeArena;
  private readonly attr: NativeBlock;
  private dataIn: NativeBlock | undefined;
  private dataOut: NativeBlock | undefined;
  private readonly ctxIn: NativeBlock;
  private readonly ctxOut: NativeBlock;

  constructor(readonly progFd: number) {
    this.c = openLibc();
    this.arena = new NativeArena(this.c);
    this.attr = this.arena.alloc(ATTR_SIZE.TEST_RUN);
    this.ctxIn = this.arena.alloc(256);
    this.ctxOut = this.arena.alloc(256);
  }

  private grow(block: NativeBlock | undefined, size: number): NativeBlock {
    if (block && block.bytes.length >= size) return block;
    return this.arena.alloc(Math.max(size, 2 * (block?.bytes.length ?? 0), 2048));
  }

  run(o: TestRunOptions): TestRunResult {
    const outSize = o.dataOutSize ?? o.data.length + 4096;
    this.dataIn = this.grow(this.dataIn, o.data.length);
    const dataOut = outSize > 0 ? (this.dataOut = this.grow(this.dataOut, outSize)) : undefined;
    this.dataIn.bytes.set(o.data);
    const a = this.attr;
    a.bytes.fill(0);
    u32(a, 0, this.progFd);
    u32(a, 8, o.data.length);
    u32(a, 12, outSize);
    ptr(a, 16, this.dataIn);
    ptr(a, 24, dataOut);
    u32(a, 32, o.repeat ?? 1);
    if (o.ctxIn) {
      if (o.ctxIn.length > this.ctxIn.bytes.length) throw new RangeError(`ctx_in of ${o.ctxIn.length} bytes is too big`);
      this.ctxIn.bytes.fill(0);
      this.ctxIn.bytes.set(o.ctxIn);
      this.ctxOut.bytes.fill(0);
      u32(a, 40, o.ctxIn.length);
      u32(a, 44, o.ctxIn.length);
      ptr(a, 48, this.ctxIn);
      ptr(a, 56, this.ctxOut);
    }
    u32(a, 64, o.flags ?? 0);
    u32(a, 68, o.cpu ?? 0);
    u32(a, 72, o.batchSize ?? 0);
    call(this.c, 'PROG_TEST_RUN', a, ATTR_SIZE.TEST_RUN, `program fd ${this.progFd}, ${o.data.length}-byte packet`);
    const outLen = a.view.getUint32(12, true);
    const ctxLen = a.view.getUint32(44, true);
    return {
      retval: a.view.getUint32(4, true),
      dataOut: dataOut ? dataOut.bytes.slice(0, Math.min(outLen, outSize)) : new Uint8Array(0),
      ...(o.ctxIn ? { ctxOut: this.ctxOut.bytes.slice(0, ctxLen) } : {}),
      durationNs: a.view.getUint32(36, true),
    };
  }

  close(): void {
    this.arena.free();
  }
}

/** One BPF_PROG_TEST_RUN. */
export function progTestRun(progFd: number, o: TestRunOptions): TestRunResult {
  const runner = new TestRunner(progFd);
  try {
    return runner.run(o);
  } finally {
    runner.close();
  }
}

// ---------------------------------------------------------------- info

/** The parts of struct bpf_prog_info this project reads. */
export interface ProgInfo {
  readonly type: number;
  readonly id: number;
  /** The program tag (sha of the instructions), hex. */
  readonly tag: string;
  readonly name: string;
  readonly jitedProgLen: number;
  readonly xlatedProgLen: number;
  /** Instructions after the kernel's rewrites (xlated_prog_len / 8). */
  readonly xlatedInsns: number;
  readonly loadTimeNs: bigint;
  readonly nrMapIds: number;
  readonly btfId: number;
  readonly nrFuncInfo: number;
  readonly nrLineInfo: number;
  /** Only counted while kernel.bpf_stats_enabled is 1. */
  readonly runTimeNs: bigint;
  readonly runCnt: bigint;
  /** Instructions the verifier processed (5.16+). */
  readonly verifiedInsns: number;
}

/**
 * BPF_OBJ_GET_INFO_BY_FD for a program. struct bpf_prog_info offsets: type 0,
 * id 4, tag[8] 8, jited_prog_len 16, xlated_prog_len 20, load_time 40,
 * nr_map_ids 52, name[16] 64, btf_id 128, nr_func_info 144, nr_line_info 148,
 * run_time_ns 192, run_cnt 200, verified_insns 216 (all pointer fields left 0,
 * so the kernel fills in only the counts).
 */
export function progInfo(fd: number): ProgInfo {
  return objInfo(fd, PROG_INFO_SIZE, 'program', (info) => {
    const v = info.view;
    const xlated = v.getUint32(20, true);
    return {
      type: v.getUint32(0, true),
      id: v.getUint32(4, true),
      tag: Buffer.from(info.bytes.subarray(8, 16)).toString('hex'),
      name: cString(info.bytes.subarray(64, 80)),
      jitedProgLen: v.getUint32(16, true),
      xlatedProgLen: xlated,
      xlatedInsns: xlated / 8,
      loadTimeNs: v.getBigUint64(40, true),
      nrMapIds: v.getUint32(52, true),
      btfId: v.getUint32(128, true),
      nrFuncInfo: v.getUint32(144, true),
      nrLineInfo: v.getUint32(148, true),
      runTimeNs: v.getBigUint64(192, true),
      runCnt: v.getBigUint64(200, true),
      verifiedInsns: v.getUint32(216, true),
    };
  });
}

// ---------------------------------------------------------------- fds

/** close(2) a bpf object's fd; a failure (EBADF: not open) is a KernelError naming 'close'. */
export function closeFd(fd: number): void {
  const errno = openLibc().close(fd);
  if (errno !== 0) throw new KernelError({ command: 'close', errno, what: `fd ${fd}` });
}

/**
 * The running kernel as an oracle: load a BPF object the way libbpf would
 * (maps created, global data written and .rodata frozen, map-in-map and
 * PROG_ARRAY slots filled, the program verified by the kernel's own verifier)
 * and run packets through it with BPF_PROG_TEST_RUN (the kernel's JIT).
 *
 * Nothing is pinned or attached: every object lives as long as its fds, and
 * `close()` releases them all. See docs/kernel-oracle.md.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { endianness } from 'node:os';
import { UnsupportedError, XdpError } from '../errors.js';
import { encode } from '../isa/insn.js';
import { MAP_TYPE, mapTypeName } from '../maps/map-types.js';
import type { MapDef, Program } from '../object/bpf-object.js';
import { findPrograms, selectProgram, type LoadedObject } from '../object/load-object.js';
import {
  BPF_ANY, BPF_ATTACH, BPF_F_XDP_HAS_FRAGS, BPF_PROG_TYPE_XDP, btfLoad, closeFd, kernelObjectName, mapCreate, mapFreeze,
  mapGetNextKey, mapLookup, mapUpdate, mapDelete, perCpuValueBytes, possibleCpus, progInfo, progLoad, TestRunner, xdpMd,
  type ProgInfo, type ProgLoadResult,
} from './bpf-syscall.js';
import { bpfSyscallNumber, openLibc } from './ffi.js';
import { btfForKernel, programBtfInfo } from './btf-for-kernel.js';
import { readKernelFuncs, resolveKfuncs, withKfuncIds, type KernelFuncs } from './kernel-kfuncs.js';
import { libbpfMapDef } from '../maps/map-validate.js';
import { requireMapSizes } from '../object/map-sizes.js';
import { ERRNO, KernelError } from './kernel-error.js';

/** ETH_HLEN: BPF_PROG_TEST_RUN refuses XDP data shorter than this (EINVAL). */
export const XDP_TEST_RUN_MIN_BYTES = 14;

/** XDP action names by retval (enum xdp_action). */
export const XDP_ACTION_NAMES = ['ABORTED', 'DROP', 'PASS', 'TX', 'REDIRECT'] as const;

/**
 * A packet the kernel cannot test-run (shorter than ETH_HLEN). Thrown before
 * the syscall, so a replay can count it as skipped rather than as a failure.
 */
export class ShortPacketError extends XdpError {
  readonly length: number;
  readonly minimum = XDP_TEST_RUN_MIN_BYTES;
  constructor(length: number) {
    super(`a ${length}-byte packet cannot be run by BPF_PROG_TEST_RUN: XDP needs at least ${XDP_TEST_RUN_MIN_BYTES} bytes (ETH_HLEN)`);
    this.length = length;
  }
}

// ---------------------------------------------------------------- availability

export type KernelAvailability =
  | {
    ok: true;
    /**
     * The verifier runs in its privileged mode (CAP_PERFMON or CAP_SYS_ADMIN, as root):
     * pointer arithmetic, uninitialised stack reads and pointer comparisons that it
     * refuses otherwise are allowed (env->allow_ptr_leaks, bypass_spec_v1 in
     * kernel/bpf/verifier.c). With only CAP_BPF + CAP_NET_ADMIN most real programs are refused.
     */
    privileged: boolean;
  }
  | { ok: false; reason: string };

/** Effective capabilities of this process (/proc/self/status CapEff), undefined when unreadable. */
function effectiveCaps(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}
const CAP = { NET_ADMIN: 12, SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;
const hasCap = (caps: bigint, cap: number): boolean => ((caps >> BigInt(cap)) & 1n) === 1n;

/**
 * Can this process use the kernel oracle? Linux, x64 or arm64, koffi and libc
 * loadable, CAP_BPF (or CAP_SYS_ADMIN) with CAP_NET_ADMIN for XDP programs, and
 * a harmless BPF_MAP_CREATE (a one-entry ARRAY, closed at once) that succeeds.
 * `privileged` says whether the verifier will judge as it does for root.
 */
export function kernelAvailable(): KernelAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (platform ${process.platform})` };
  try {
    bpfSyscallNumber();
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (endianness() !== 'LE') return { ok: false, reason: 'the kernel oracle lays out bpf_attr little-endian; this host is big-endian' };
  try {
    openLibc();
  } catch (e) {
    return { ok: false, reason: `koffi/libc cannot be loaded: ${(e as Error).message}` };
  }
  const caps = effectiveCaps();
  const privileged = caps === undefined ? process.getuid?.() === 0 : hasCap(caps, CAP.SYS_ADMIN) || hasCap(caps, CAP.PERFMON);
  if (caps !== undefined) {
    const bpf = hasCap(caps, CAP.BPF) || hasCap(caps, CAP.SYS_ADMIN);
    if (!bpf || !hasCap(caps, CAP.NET_ADMIN)) {
      return {
        ok: false,
        reason: `loading XDP programs needs CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN; this process (uid ${process.getuid?.()}) has ${
          [bpf ? 'CAP_BPF' : undefined, hasCap(caps, CAP.NET_ADMIN) ? 'CAP_NET_ADMIN' : undefined].filter(Boolean).join(' and ') || 'neither'
        }`,
      };
    }
  }
  try {
    closeFd(mapCreate({ type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: 'oracle_probe' }));
  } catch (e) {
    if (e instanceof KernelError) {
      const hint = e.errno === ERRNO.EPERM
        ? ' (needs root or CAP_BPF; see also kernel.unprivileged_bpf_disabled)'
        : e.errno === ERRNO.ENOSYS ? ' (kernel built without CONFIG_BPF_SYSCALL)' : '';
      return { ok: false, reason: `a probe BPF_MAP_CREATE failed with ${e.errnoName}${hint}` };
    }
    return { ok: false, reason: `a probe BPF_MAP_CREATE failed: ${(e as Error).message}` };
  }
  return { ok: true, privileged };
}

// ---------------------------------------------------------------- the loaded object

export interface KernelLoadOptions {
  /** The program to run: a program name or a section (as `--section`). Default: the only entry program. */
  readonly program?: string;
  /**
   * CPUs the caller expects per-CPU values for. The kernel's per-CPU values always hold one slot per
   * possible CPU (/sys/devices/system/cpu/possible), so any other number is refused.
   */
  readonly cpus?: number;
  /** Verifier log level for the programs (0 none, 1 default, 2 every instruction). */
  readonly logLevel?: number;
  /** Load the object's BTF and pass func_info/line_info (source lines in the log). Default true. */
  readonly btf?: boolean;
}

export interface KernelMap {
  readonly def: MapDef;
  /** The name the map was created with in the kernel (global data gets libbpf's object prefix). */
  readonly kernelName: string;
  readonly fd: number;
}

export interface KernelProgram {
  readonly name: string;
  readonly section: string;
  readonly fd: number;
  readonly verifierLog: string;
  /** The log did not fit the buffer; `verifierLog` is its end. */
  readonly logTruncated: boolean;
  readonly info: ProgInfo;
}

export interface KernelRunContext {
  /** xdp_md.ingress_ifindex: must name an existing device (1 = lo), else EINVAL/ENODEV. */
  readonly ingressIfindex?: number;
  /** xdp_md.rx_queue_index: must be below that device's real_num_rx_queues (needs ingressIfindex). */
  readonly rxQueueIndex?: number;
}

export interface KernelRunResult {
  /** The program's return value (the XDP action, 0..4, or anything a program returned). */
  readonly retval: number;
  /** data_out: the metadata (if the program added any) followed by the packet. */
  readonly data: Uint8Array;
  /** Bytes of metadata at the start of `data` (known when the run had a context; 0 otherwise). */
  readonly metaLength: number;
  /** Average ns per run (attr.test.duration: total time / repeat). */
  readonly durationNs: number;
}

export interface MapEntry {
  readonly key: Uint8Array;
  /** One value per possible CPU for per-CPU maps, else a single value. */
  readonly values: Uint8Array[];
}

export type BtfState = { readonly loaded: true } | { readonly loaded: false; readonly reason: string };

export interface KernelObject {
  readonly file: string;
  /** The program `run` runs. */
  readonly program: KernelProgram;
  /** Every program loaded: the chosen one and the ones PROG_ARRAY slots name. */
  readonly programs: readonly KernelProgram[];
  readonly maps: readonly KernelMap[];
  /** The chosen program's verifier log. */
  readonly verifierLog: string;
  /** The chosen program's bpf_prog_info (verified_insns, xlated/jited lengths, ...). */
  readonly info: ProgInfo;
  /** Whether the object's BTF went to the kernel (and if not, why). */
  readonly btf: BtfState;
  /** Possible CPUs: the number of values a per-CPU map holds per key. */
  readonly cpus: number;
  run(packet: Uint8Array, ctx?: KernelRunContext, repeat?: number): KernelRunResult;
  /** Every entry, in the kernel's BPF_MAP_GET_NEXT_KEY order. */
  readMap(name: string): MapEntry[];
  /** One entry's values, undefined when the key is absent. */
  lookupMap(name: string, key: Uint8Array): Uint8Array[] | undefined;
  /**
   * Write one entry. `value` is one value (copied to every CPU of a per-CPU map),
   * or one value per CPU. PROG_ARRAY and map-in-map values are fds.
   */
  writeMap(name: string, key: Uint8Array, value: Uint8Array | readonly Uint8Array[], flags?: number): void;
  deleteMap(name: string, key: Uint8Array): void;
  /** Close every fd (programs, maps, BTF) and free the run buffers. Safe to call twice. */
  close(): void;
}

const PER_CPU_TYPES: ReadonlySet<number> = new Set([MAP_TYPE.PERCPU_HASH, MAP_TYPE.PERCPU_ARRAY, MAP_TYPE.LRU_PERCPU_HASH, 21]);
/** Maps whose user-space lookups return an id (u32) instead of the fd that was stored. */
const FD_VALUE_TYPES: ReadonlySet<number> = new Set([MAP_TYPE.PROG_ARRAY, MAP_TYPE.ARRAY_OF_MAPS, MAP_TYPE.HASH_OF_MAPS]);
/**
 * Types for which the kernel refuses (or ignores) BTF key/value types, so the
 * map is created without them, as libbpf does (PROG_ARRAY: EINVAL with a key type).
 */
const NO_BTF_TYPES: ReadonlySet<number> = new Set([
  MAP_TYPE.PROG_ARRAY, MAP_TYPE.PERF_EVENT_ARRAY, 7 /* STACK_TRACE */, 8 /* CGROUP_ARRAY */, MAP_TYPE.ARRAY_OF_MAPS,
  MAP_TYPE.HASH_OF_MAPS, MAP_TYPE.DEVMAP, MAP_TYPE.DEVMAP_HASH, MAP_TYPE.CPUMAP, MAP_TYPE.XSKMAP, 15 /* SOCKMAP */,
  18 /* SOCKHASH */, MAP_TYPE.QUEUE, MAP_TYPE.STACK, MAP_TYPE.RINGBUF,
]);
/** enum bpf_prog_type values of the types this loader loads. */
const PROG_TYPE_BY_NAME: Readonly<Record<string, number>> = { XDP: BPF_PROG_TYPE_XDP };
const ATTACH_BY_NAME: Readonly<Record<string, number>> = {
  XDP: BPF_ATTACH.XDP, XDP_DEVMAP: BPF_ATTACH.XDP_DEVMAP, XDP_CPUMAP: BPF_ATTACH.XDP_CPUMAP,
};

const u32Key = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

/** libbpf's name for a global-data map: the first 8 characters of the object's name, then the section. */
function globalDataName(file: string, section: string): string {
  const obj = basename(file).replace(/\.o$/, '').replace(/\..*$/, '');
  return kernelObjectName(`${obj.slice(0, 8)}${section}`);
}

/** Tracks every fd made, so a failure half-way closes what exists. */
class FdSet {
  private readonly fds: number[] = [];
  add(fd: number): number {
    this.fds.push(fd);
    return fd;
  }
  remove(fd: number): void {
    const i = this.fds.indexOf(fd);
    if (i >= 0) this.fds.splice(i, 1);
    closeFd(fd);
  }
  closeAll(): void {
    for (const fd of this.fds.splice(0).reverse()) {
      try {
        closeFd(fd);
      } catch {
        // already gone: nothing more to release
      }
    }
  }
}

/**
 * Load `obj` into the running kernel: every map, then the chosen program and
 * every program a PROG_ARRAY slot names. A program the verifier refuses is a
 * KernelError carrying the verifier log; everything created before it is closed.
 */
export function loadObjectIntoKernel(obj: LoadedObject, opts: KernelLoadOptions = {}): KernelObject {
  if (!obj.littleEndian) throw new UnsupportedError('a big-endian BPF object cannot be loaded into this (little-endian) kernel', { file: obj.file });
  const fds = new FdSet();
  try {
    return load(obj, opts, fds);
  } catch (e) {
    fds.closeAll();
    throw e;
  }
}

function chooseProgram(obj: LoadedObject, wanted: string | undefined): Program {
  if (wanted !== undefined) return selectProgram(obj, wanted);
  const tailTargets = new Set(
    obj.maps.filter((m) => m.type === MAP_TYPE.PROG_ARRAY).flatMap((m) => (m.initialSlots ?? []).map((s) => s.name)),
  );
  const entries = findPrograms(obj).filter((p) => !tailTargets.has(p.name));
  return entries.length === 1 ? entries[0]! : selectProgram(obj);
}

function load(obj: LoadedObject, opts: KernelLoadOptions, fds: FdSet): KernelObject {
  const chosen = chooseProgram(obj, opts.program);
  const cpus = possibleCpus();
  const where = { file: obj.file };
  if (opts.cpus !== undefined && opts.cpus !== cpus) {
    throw new XdpError(`the kernel's per-CPU maps hold one value per possible CPU, and this machine has ${cpus} (/sys/devices/system/cpu/possible), not ${opts.cpus}`, where);
  }
  requireMapSizes(obj);
  // libbpf sizes a PERF_EVENT_ARRAY left at 0 to the possible CPUs of this machine.
  let kernelFuncs: KernelFuncs | undefined;
  const kfuncIds = (p: Program): number[] =>
    p.kfuncs ? resolveKfuncs(p, (kernelFuncs ??= readKernelFuncs()), obj.file) : [];

  // BTF: optional; without it the programs load the same, only the log lacks source lines.
  let btf: BtfState = { loaded: false, reason: 'not requested' };
  let btfFd: number | undefined;
  if (opts.btf !== false) {
    const raw = btfForKernel(obj.elf, obj.btf);
    if (!raw.ok) {
      btf = { loaded: false, reason: raw.reason };
    } else {
      try {
        btfFd = fds.add(btfLoad(raw.raw).fd);
        btf = { loaded: true };
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        btf = { loaded: false, reason: `BPF_BTF_LOAD refused the object's BTF: ${e.message}` };
      }
    }
  }

  // Maps.
  const maps: KernelMap[] = [];
  for (const def of obj.maps) {
    const kernelName = def.origin === 'global-data' ? globalDataName(obj.file, def.name) : kernelObjectName(def.name);
    const fd = fds.add(createMap(libbpfMapDef(def, cpus), kernelName, btfFd, fds));
    maps.push({ def, kernelName, fd });
    if (def.initialValue) {
      mapUpdate(fd, u32Key(0), def.initialValue, BPF_ANY);
      if (def.section.startsWith('.rodata')) mapFreeze(fd);
    }
  }
  const mapByName = new Map(maps.map((m) => [m.def.name, m]));
  for (const m of maps) {
    if (m.def.type === MAP_TYPE.PROG_ARRAY || !m.def.initialSlots) continue;
    for (const s of m.def.initialSlots) {
      const inner = mapByName.get(s.name);
      if (!inner) throw new XdpError(`map '${m.def.name}' slot ${s.slot} names '${s.name}', which is not a map of the object`, where);
      mapUpdate(m.fd, u32Key(s.slot), u32Key(inner.fd), BPF_ANY);
    }
  }

  // Programs: the chosen one, and every program a PROG_ARRAY slot names.
  const fdArray = maps.map((m) => m.fd);
  const loaded = new Map<string, KernelProgram>();
  const loadOne = (p: Program): KernelProgram => {
    const had = loaded.get(p.name);
    if (had) return had;
    const r = loadProgram(obj, p, fdArray, kfuncIds(p), btfFd, opts.logLevel, (reason) => {
      btf = { loaded: false, reason };
    });
    fds.add(r.fd);
    const kp: KernelProgram = {
      name: p.name, section: p.section, fd: r.fd, verifierLog: r.log, logTruncated: r.logTruncated, info: progInfo(r.fd),
    };
    loaded.set(p.name, kp);
    return kp;
  };
  const main = loadOne(chosen);
  for (const m of maps) {
    if (m.def.type !== MAP_TYPE.PROG_ARRAY) continue;
    for (const s of m.def.initialSlots ?? []) {
      const p = obj.programs.find((q) => q.name === s.name);
      if (!p) {
        const foreign = obj.foreign.find((f) => f.name === s.name);
        throw new UnsupportedError(
          foreign
            ? `PROG_ARRAY '${m.def.name}' slot ${s.slot} names ${foreign.progType} program '${s.name}'; only XDP programs are loaded`
            : `PROG_ARRAY '${m.def.name}' slot ${s.slot} names '${s.name}', which is not a program of the object`,
          where,
        );
      }
      mapUpdate(m.fd, u32Key(s.slot), u32Key(loadOne(p).fd), BPF_ANY);
    }
  }

  return makeKernelObject(obj.file, main, [...loaded.values()], maps, btf, cpus, fds);
}

function createMap(def: MapDef, name: string, btfFd: number | undefined, fds: FdSet): number {
  const what = `map '${def.name}' (${mapTypeName(def.type)})`;
  let innerFd: number | undefined;
  if (def.type === MAP_TYPE.ARRAY_OF_MAPS || def.type === MAP_TYPE.HASH_OF_MAPS) {
    if (!def.inner) throw new UnsupportedError(`${what} has no inner map definition to create its template from`);
    innerFd = fds.add(
      mapCreate({
        type: def.inner.type, keySize: def.inner.keySize, valueSize: def.inner.valueSize, maxEntries: def.inner.maxEntries,
        flags: def.inner.flags, name: kernelObjectName(`${def.name}.inner`),
      }),
    );
  }
  const base = {
    type: def.type, keySize: def.keySize, valueSize: def.valueSize, maxEntries: def.maxEntries, flags: def.flags, name,
    ...(innerFd !== undefined ? { innerMapFd: innerFd } : {}),
    ...(def.numaNode !== undefined ? { numaNode: def.numaNode } : {}),
    ...(def.mapExtra !== undefined ? { mapExtra: def.mapExtra } : {}),
  };
  const withBtf = btfFd !== undefined && !NO_BTF_TYPES.has(def.type) && (def.keyTypeId !== undefined || def.valueTypeId !== undefined);
  try {
    if (withBtf) {
      try {
        return mapCreate({ ...base, btfFd, btfKeyTypeId: def.keyTypeId ?? 0, btfValueTypeId: def.valueTypeId ?? 0 });
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        // As libbpf: retry without BTF types (the kernel may not take them for this map).
      }
    }
    try {
      return mapCreate(base);
    } catch (e) {
      if (e instanceof KernelError) throw new KernelError({ command: 'BPF_MAP_CREATE', errno: e.errno, what: `creating ${what}` });
      throw e;
    }
  } finally {
    // The outer map keeps a copy of the template's shape; the template itself is not needed.
    if (innerFd !== undefined) fds.remove(innerFd);
  }
}

/**
 * The BPF_PROG_LOAD attributes every XDP program load shares: instructions (kfunc calls carrying
 * the kernel's BTF ids, `kfuncIds` in the order of `p.kfuncs`), type, attach type, frags, maps.
 */
export function xdpProgLoadAttrs(license: string | undefined, p: Program, fdArray: number[], kfuncIds: readonly number[] = []) {
  const progType = PROG_TYPE_BY_NAME[p.type.progType];
  if (progType === undefined) throw new UnsupportedError(`program '${p.name}' is ${p.type.progType}; only XDP programs are loaded`, { section: p.section });
  return {
    insns: encode(p.kfuncs ? withKfuncIds(p.insns, kfuncIds) : p.insns, true),
    license: license ?? '',
    progType,
    expectedAttachType: ATTACH_BY_NAME[p.type.attach ?? 'XDP'] ?? BPF_ATTACH.XDP,
    progFlags: p.type.frags ? BPF_F_XDP_HAS_FRAGS : 0,
    name: p.name,
    fdArray,
  };
}

function loadProgram(
  obj: LoadedObject, p: Program, fdArray: number[], kfuncIds: readonly number[], btfFd: number | undefined, logLevel: number | undefined,
  btfDropped: (reason: string) => void,
): ProgLoadResult {
  const base = {
    ...xdpProgLoadAttrs(obj.license, p, fdArray, kfuncIds),
    what: `program '${p.name}' (section ${p.section})`,
    ...(logLevel !== undefined ? { logLevel } : {}),
  };
  const info = btfFd !== undefined && obj.btf ? programBtfInfo(obj.elf, obj.btf, p) : undefined;
  if (btfFd === undefined || !info) return progLoad(base);
  if (!info.ok) {
    btfDropped(`program '${p.name}': ${info.reason}`);
    return progLoad(base);
  }
  try {
    return progLoad({ ...base, btf: { fd: btfFd, ...info.info } });
  } catch (e) {
    // A verdict of the verifier proper ends its log with "processed N insns"; anything
    // else was refused before the walk (func_info/line_info checks): try without BTF.
    if (!(e instanceof KernelError) || /processed \d+ insns/.test(e.log)) throw e;
    const r = progLoad(base);
    btfDropped(`BPF_PROG_LOAD refused the BTF func_info/line_info of '${p.name}': ${e.message}`);
    return r;
  }
}

function makeKernelObject(
  file: string, main: KernelProgram, programs: KernelProgram[], maps: KernelMap[], btf: BtfState, cpus: number, fds: FdSet,
): KernelObject {
  let runner: TestRunner | undefined;
  let closed = false;
  const live = (): void => {
    if (closed) throw new XdpError('the kernel object is closed', { file });
  };
  const mapNamed = (name: string): KernelMap => {
    live();
    const m = maps.find((x) => x.def.name === name) ?? maps.find((x) => x.kernelName === name);
    if (!m) throw new XdpError(`no map '${name}'; the object's maps: ${maps.map((x) => x.def.name).join(', ') || 'none'}`, { file });
    return m;
  };
  const perCpu = (m: KernelMap): boolean => PER_CPU_TYPES.has(m.def.type);
  const valueBytes = (m: KernelMap): number =>
    perCpu(m) ? perCpuValueBytes(m.def.valueSize, cpus) : FD_VALUE_TYPES.has(m.def.type) ? 4 : m.def.valueSize;
  const split = (m: KernelMap, raw: Uint8Array): Uint8Array[] => {
    if (!perCpu(m)) return [raw];
    const stride = Math.ceil(m.def.valueSize / 8) * 8;
    return Array.from({ length: cpus }, (_, c) => raw.slice(c * stride, c * stride + m.def.valueSize));
  };
  const lookup = (m: KernelMap, key: Uint8Array): Uint8Array[] | undefined => {
    try {
      return split(m, mapLookup(m.fd, key, valueBytes(m)));
    } catch (e) {
      if (e instanceof KernelError && e.errno === ERRNO.ENOENT) return undefined;
      throw e;
    }
  };

  return {
    file, program: main, programs, maps, btf, cpus,
    verifierLog: main.verifierLog,
    info: main.info,

    run(packet, ctx, repeat = 1) {
      live();
      if (packet.length < XDP_TEST_RUN_MIN_BYTES) throw new ShortPacketError(packet.length);
      runner ??= new TestRunner(main.fd);
      const useCtx = ctx && (ctx.ingressIfindex !== undefined || ctx.rxQueueIndex !== undefined);
      const r = runner.run({
        data: packet,
        repeat,
        ...(useCtx
          ? { ctxIn: xdpMd({ dataLength: packet.length, ingressIfindex: ctx.ingressIfindex ?? 0, rxQueueIndex: ctx.rxQueueIndex ?? 0 }) }
          : {}),
      });
      // data_out starts at data_meta; ctx_out's data field is data's offset from it (xdp_convert_buff_to_md).
      const metaLength = r.ctxOut && r.ctxOut.length >= 4 ? new DataView(r.ctxOut.buffer, r.ctxOut.byteOffset).getUint32(0, true) : 0;
      return { retval: r.retval, data: r.dataOut, metaLength, durationNs: r.durationNs };
    },

    readMap(name) {
      const m = mapNamed(name);
      const out: MapEntry[] = [];
      for (let key = mapGetNextKey(m.fd, undefined, m.def.keySize); key; key = mapGetNextKey(m.fd, key, m.def.keySize)) {
        const values = lookup(m, key);
        if (values) out.push({ key, values });
      }
      return out;
    },

    lookupMap(name, key) {
      return lookup(mapNamed(name), key);
    },

    writeMap(name, key, value, flags = BPF_ANY) {
      const m = mapNamed(name);
      let raw: Uint8Array;
      if (!perCpu(m)) {
        if (!(value instanceof Uint8Array)) throw new XdpError(`map '${name}' is not per-CPU: give one value`, { file });
        raw = value;
      } else {
        const stride = Math.ceil(m.def.valueSize / 8) * 8;
        const per = value instanceof Uint8Array ? Array.from({ length: cpus }, () => value) : value;
        if (per.length !== cpus) throw new XdpError(`per-CPU map '${name}' needs ${cpus} values, got ${per.length}`, { file });
        raw = new Uint8Array(stride * cpus);
        per.forEach((v, c) => raw.set(v.subarray(0, m.def.valueSize), c * stride));
      }
      mapUpdate(m.fd, key, raw, flags);
    },

    deleteMap(name, key) {
      mapDelete(mapNamed(name).fd, key);
    },

    close() {
      if (closed) return;
      closed = true;
      runner?.close();
      fds.closeAll();
    },
  };
}

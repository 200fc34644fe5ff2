/**
 * One program of an object built in memory (assembled text, no ELF, no BTF)
 * into the running kernel: its maps created in `obj.maps` order so that the
 * program's `lddw` map indices (src 5/6) name them through `fd_array`, then
 * BPF_PROG_LOAD, as root or — for the verifier's unprivileged mode — with
 * CAP_SYS_ADMIN and CAP_PERFMON dropped from this thread's effective set for
 * the duration of the load.
 *
 * `loadObjectIntoKernel` (kernel-oracle.ts) is for ELF objects (BTF, global
 * data, PROG_ARRAY slots naming programs); this is for the verifier's test
 * cases and benchmarks, where only the verdict, the log and the time matter.
 */
import { XdpError } from '../errors.js';
import { MAP_TYPE, mapTypeName } from '../maps/map-types.js';
import type { BpfObject, MapDef, Program } from '../object/bpf-object.js';
import {
  BPF_ANY, closeFd, kernelObjectName, mapCreate, mapFreeze, mapUpdate, possibleCpus,
  progInfo, progLoad, type ProgInfo,
} from './bpf-syscall.js';
import { NativeArena, openLibc } from './ffi.js';
import { KernelError } from './kernel-error.js';
import { xdpProgLoadAttrs } from './kernel-oracle.js';
import { readKernelFuncs, resolveKfuncs, type KernelFuncs } from './kernel-kfuncs.js';
import { libbpfMapDef } from '../maps/map-validate.js';
import { requireMapSizes } from '../object/map-sizes.js';

export interface ProgramLoadOptions {
  /** Verifier log level: 0 none, 1 the walk, 2 every state, |4 statistics (verification time). Default 1. */
  readonly logLevel?: number;
  /** Log buffer bytes; default 16 MiB (a refused loop can log a lot). */
  readonly logSize?: number;
  /**
   * Verify as a privileged loader (default true). False drops CAP_SYS_ADMIN and
   * CAP_PERFMON for the load (CAP_BPF and CAP_NET_ADMIN stay): the verifier's
   * `allow_ptr_leaks` / `bypass_spec_v1` / `allow_uninit_stack` are then off.
   */
  readonly privileged?: boolean;
  /** The kernel's kfuncs, when the caller has read them already (else read when a program calls one). */
  readonly kernelFuncs?: KernelFuncs;
}

export interface LoadedProgram {
  readonly fd: number;
  readonly log: string;
  readonly logTruncated: boolean;
  readonly info: ProgInfo;
  /** Wall time of the BPF_PROG_LOAD call(s) in ns, the log buffer's setup excluded as far as possible. */
  readonly wallNs: number;
  readonly mapFds: readonly number[];
  close(): void;
}

const u32Key = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

function createMaps(maps: readonly MapDef[], opened: number[]): number[] {
  const fds: number[] = [];
  const cpus = possibleCpus();
  for (const def of maps.map((m) => libbpfMapDef(m, cpus))) {
    let innerFd: number | undefined;
    if (def.type === MAP_TYPE.ARRAY_OF_MAPS || def.type === MAP_TYPE.HASH_OF_MAPS) {
      if (!def.inner) throw new XdpError(`map '${def.name}' (${mapTypeName(def.type)}) has no inner map definition`);
      innerFd = mapCreate({
        type: def.inner.type, keySize: def.inner.keySize, valueSize: def.inner.valueSize, maxEntries: def.inner.maxEntries,
        flags: def.inner.flags, name: kernelObjectName(`${def.name}.inner`),
      });
    }
    try {
      const fd = mapCreate({
        type: def.type, keySize: def.keySize, valueSize: def.valueSize, maxEntries: def.maxEntries, flags: def.flags,
        name: kernelObjectName(def.name),
        ...(innerFd !== undefined ? { innerMapFd: innerFd } : {}),
        ...(def.mapExtra !== undefined ? { mapExtra: def.mapExtra } : {}),
      });
      opened.push(fd);
      fds.push(fd);
      if (def.initialValue) {
        mapUpdate(fd, u32Key(0), def.initialValue, BPF_ANY);
        if (def.section.startsWith('.rodata')) mapFreeze(fd);
      }
    } finally {
      if (innerFd !== undefined) closeFd(innerFd);
    }
  }
  return fds;
}

function closeAll(fds: readonly number[]): void {
  for (const fd of [...fds].reverse()) {
    try {
      closeFd(fd);
    } catch {
      // already closed: nothing to release
    }
  }
}

/**
 * Load `program` of `obj` (maps created first). A refusal is a KernelError with
 * the verifier log; every fd made before it is closed.
 */
export function loadProgramIntoKernel(obj: BpfObject, program: Program, opts: ProgramLoadOptions = {}): LoadedProgram {
  const opened: number[] = [];
  try {
    requireMapSizes(obj);
    const kfuncIds = program.kfuncs ? resolveKfuncs(program, opts.kernelFuncs ?? readKernelFuncs(), obj.file) : [];
    const mapFds = createMaps(obj.maps, opened);
    const load = () => {
      const t0 = process.hrtime.bigint();
      const r = progLoad({
        ...xdpProgLoadAttrs(obj.license, program, mapFds, kfuncIds),
        what: `program '${program.name}'`,
        logLevel: opts.logLevel ?? 1,
        ...(opts.logSize !== undefined ? { logSize: opts.logSize } : {}),
      });
      return { r, wallNs: Number(process.hrtime.bigint() - t0) };
    };
    const { r, wallNs } = opts.privileged === false ? withoutPrivilege(load) : load();
    opened.push(r.fd);
    const info = progInfo(r.fd);
    let closed = false;
    return {
      fd: r.fd, log: r.log, logTruncated: r.logTruncated, info, wallNs, mapFds,
      close() {
        if (closed) return;
        closed = true;
        closeAll(opened);
      },
    };
  } catch (e) {
    closeAll(opened);
    throw e;
  }
}

/** The kernel's answer for one program: accepted or not, with the log and what the load cost. */
export interface KernelVerdict {
  readonly accepted: boolean;
  /** errno name of a refusal (EACCES for the verifier's "no", EINVAL for malformed programs, E2BIG, ...). */
  readonly errno?: string;
  readonly log: string;
  readonly logTruncated: boolean;
  /** Instructions the verifier processed (bpf_prog_info.verified_insns) of an accepted program. */
  readonly verifiedInsns?: number;
  /** Where the log names the instruction it refused and why (see `kernelRejection`). */
  readonly rejection?: KernelRejection;
}

/** Load, take the verdict, close. Only a KernelError from BPF_PROG_LOAD counts as a refusal. */
export function kernelVerdict(obj: BpfObject, program: Program, opts: ProgramLoadOptions = {}): KernelVerdict {
  try {
    const p = loadProgramIntoKernel(obj, program, opts);
    p.close();
    return { accepted: true, log: p.log, logTruncated: p.logTruncated, verifiedInsns: p.info.verifiedInsns };
  } catch (e) {
    if (!(e instanceof KernelError) || e.command !== 'BPF_PROG_LOAD') throw e;
    return { accepted: false, errno: e.errnoName, log: e.log, logTruncated: false, rejection: kernelRejection(e.log) };
  }
}

// ---------------------------------------------------------------- reading a refusal

export interface KernelRejection {
  /**
   * The instruction (slot index) the kernel blames: the one the error line names
   * ("infinite loop detected at insn 3", "unreachable insn 3", "jump out of range
   * from insn 5 to 9", "jump into the middle of ldimm64 insn 2"), else the last
   * instruction the log printed before the error (at log level >= 1 the kernel
   * prints each instruction as it walks it, `N: (op) ...`, and the error follows
   * the instruction it is about); -1 when the log names none (errors found before
   * or after the walk: opcode and field checks, "last insn is not an exit or jmp",
   * "combined stack size ... Too large").
   */
  readonly insn: number;
  /** The error line(s): what the log says after the last instruction, summary lines removed, joined by ' / '. */
  readonly message: string;
}

const INSN_LINE = /^(\d+): (\([0-9a-f]{2}\)|BUG_)/;
const SUMMARY = [/^processed \d+ insns/, /^verification time \d+/, /^stack depth /, /^mark_precise:/, /^; /, /^func#\d+ @\d+/];
const STATE_LINE = /^(\d+: )?(R\d+(_[rw]+)?=|frame\d+:|cur state:|old state:)/;
const GLUED_AFTER_JUMP = /goto pc[+-]\d+ (?!;)(?!\d+: )(\S.*)$/;
const NAMED_INSN = [/\bfrom insn (\d+)/, /\bat insn (\d+)/, /\binsn (\d+)\b/];

/**
 * What a verifier log refusing a program blames, and the error text. Lines after
 * the last instruction that are register states or statistics are not part of
 * the message; some messages lack their newline, so a glued summary is cut off.
 */
export function kernelRejection(log: string): KernelRejection {
  const lines = log.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
  let last = -1;
  let lastAt = -1;
  lines.forEach((l, i) => {
    const m = INSN_LINE.exec(l);
    if (m) {
      last = Number(m[1]);
      lastAt = i;
    }
  });
  // A jump's line may carry the next message on the same line when the kernel printed no
  // newline before it ("15: (55) if r2 != 0x0 goto pc-4 infinite loop detected at insn 12").
  const glued = lastAt >= 0 ? GLUED_AFTER_JUMP.exec(lines[lastAt]!) : null;
  const after = [...(glued ? [glued[1]!] : []), ...lines.slice(lastAt + 1)]
    .filter((l) => !SUMMARY.some((re) => re.test(l)))
    .map((l) => l.replace(/processed \d+ insns \(limit.*$/, ''))
    .filter((l) => l !== '');
  const errorLines = after.filter((l) => !STATE_LINE.test(l));
  const message = (errorLines.length > 0 ? errorLines : after).join(' / ');
  const first = errorLines[0] ?? '';
  for (const re of NAMED_INSN) {
    const m = re.exec(first);
    if (m) return { insn: Number(m[1]), message };
  }
  return { insn: last, message };
}

// ---------------------------------------------------------------- privileges

/** Capabilities of include/uapi/linux/capability.h the verifier's privileged mode rests on. */
const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

interface CapCalls {
  capget(hdr: unknown, data: unknown): number;
  capset(hdr: unknown, data: unknown): number;
}
let capCalls: CapCalls | undefined;
function caps(): CapCalls {
  if (capCalls) return capCalls;
  const { koffi } = openLibc();
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load('libc.so.6');
  } catch {
    lib = koffi.load(null);
  }
  const capget = lib.func('int capget(void *hdr, void *data)');
  const capset = lib.func('int capset(void *hdr, void *data)');
  capCalls = { capget: (h, d) => Number(capget(h, d)), capset: (h, d) => Number(capset(h, d)) };
  return capCalls;
}

/**
 * Run `fn` with CAP_SYS_ADMIN and CAP_PERFMON removed from the effective set of
 * the calling thread (capset(2) with pid 0 changes only that thread, and the
 * kernel checks the caller's credentials), then restore the effective set
 * (still permitted, so raising it again is allowed). `fn` must be synchronous.
 */
export function withoutPrivilege<T>(fn: () => T): T {
  const c = caps();
  const { koffi } = openLibc();
  const arena = new NativeArena();
  try {
    const hdr = arena.alloc(8);
    const data = arena.alloc(24);
    hdr.view.setUint32(0, LINUX_CAPABILITY_VERSION_3, true);
    hdr.view.setInt32(4, 0, true);
    if (c.capget(hdr.pointer, data.pointer) !== 0) throw new XdpError(`capget failed: errno ${koffi.errno()}`);
    const saved = data.bytes.slice();
    const eff0 = data.view.getUint32(0, true) & ~(1 << CAP_SYS_ADMIN);
    const eff1 = data.view.getUint32(12, true) & ~(1 << (CAP_PERFMON - 32));
    data.view.setUint32(0, eff0 >>> 0, true);
    data.view.setUint32(12, eff1 >>> 0, true);
    if (c.capset(hdr.pointer, data.pointer) !== 0) throw new XdpError(`capset (drop) failed: errno ${koffi.errno()}`);
    try {
      return fn();
    } finally {
      data.bytes.set(saved);
      hdr.view.setUint32(0, LINUX_CAPABILITY_VERSION_3, true);
      hdr.view.setInt32(4, 0, true);
      if (c.capset(hdr.pointer, data.pointer) !== 0) {
        // eslint-disable-next-line no-unsafe-finally
        throw new XdpError(`capset (restore) failed: errno ${koffi.errno()}; this thread has lost CAP_SYS_ADMIN/CAP_PERFMON`);
      }
    }
  } finally {
    arena.free();
  }
}

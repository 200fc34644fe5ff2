/**
 * The one place that touches the FFI: koffi, libc's `syscall(2)` and `close(2)`,
 * errno, and native memory blocks whose addresses can be written into
 * `union bpf_attr` (the kernel reads and writes user memory through those
 * addresses, so they must not move: they come from `koffi.alloc`, never from a
 * JS heap object).
 *
 * koffi is loaded lazily with `require`, so that importing this module on a
 * machine where koffi's native part cannot load costs nothing and
 * `kernelAvailable()` can say why instead of the import throwing.
 */
import { createRequire } from 'node:module';
import { UnsupportedError } from '../errors.js';

type Koffi = typeof import('koffi');

/** `SYS_bpf` per architecture (arch/x86/entry/syscalls/syscall_64.tbl: 321; include/uapi/asm-generic/unistd.h: 280). */
const SYS_BPF: Readonly<Record<string, number>> = { x64: 321, arm64: 280 };

/** The bpf(2) syscall number for a Node `process.arch`, or an UnsupportedError naming the architecture. */
export function bpfSyscallNumber(arch: string = process.arch): number {
  const nr = SYS_BPF[arch];
  if (nr === undefined) {
    throw new UnsupportedError(
      `the kernel oracle knows the bpf() syscall number only on x64 (321) and arm64 (280), not on '${arch}'`,
    );
  }
  return nr;
}

export interface Libc {
  readonly koffi: Koffi;
  /** bpf(cmd, attr, size) through syscall(SYS_bpf, ...); returns the raw result and errno. */
  bpf(cmd: number, attr: NativeBlock, size: number): { result: number; errno: number };
  /** close(2); returns 0 or the errno. */
  close(fd: number): number;
}

let libc: Libc | undefined;

/** The binding, created on first use (a process-wide resource, immutable once made). */
export function openLibc(): Libc {
  if (libc) return libc;
  if (process.platform !== 'linux') throw new UnsupportedError(`the bpf() syscall exists only on Linux, not on ${process.platform}`);
  const nr = bpfSyscallNumber();
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const lib = loadLibc(koffi);
  const syscall = lib.func('long syscall(long number, ...)');
  const close = lib.func('int close(int fd)');
  libc = {
    koffi,
    bpf(cmd, attr, size) {
      koffi.errno(0);
      const result = Number(syscall(nr, 'int', cmd, 'void *', attr.pointer, 'uint', size));
      return { result, errno: result < 0 ? koffi.errno() : 0 };
    },
    close(fd) {
      koffi.errno(0);
      return close(fd) === 0 ? 0 : koffi.errno();
    },
  };
  return libc;
}

function loadLibc(koffi: Koffi): ReturnType<Koffi['load']> {
  try {
    return koffi.load('libc.so.6');
  } catch {
    // Not glibc (musl, say): the running process has libc's symbols loaded already.
    return koffi.load(null);
  }
}

/** Native memory that does not move: `address` goes into bpf_attr, `bytes` reads and writes it. */
export interface NativeBlock {
  readonly pointer: unknown;
  readonly address: bigint;
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

/**
 * A set of native blocks freed together. One arena per syscall (or per runner
 * that reuses its buffers); nothing of it may be touched after `free()`.
 */
export class NativeArena {
  private readonly blocks: NativeBlock[] = [];
  private freed = false;
  constructor(private readonly c: Libc = openLibc()) {}

  /** `size` zeroed bytes (at least 1, so that every block has an address). */
  alloc(size: number): NativeBlock {
    if (this.freed) throw new Error('NativeArena used after free');
    const n = Math.max(1, size);
    const pointer = this.c.koffi.alloc('uint8_t', n);
    const buffer = this.c.koffi.view(pointer, n);
    const block: NativeBlock = {
      pointer,
      address: this.c.koffi.address(pointer),
      bytes: new Uint8Array(buffer, 0, n),
      view: new DataView(buffer, 0, n),
    };
    block.bytes.fill(0);
    this.blocks.push(block);
    return block;
  }

  /** A block holding a copy of `data`. */
  copyIn(data: Uint8Array): NativeBlock {
    const b = this.alloc(data.length);
    b.bytes.set(data);
    return b;
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const b of this.blocks) this.c.koffi.free(b.pointer);
    this.blocks.length = 0;
  }
}

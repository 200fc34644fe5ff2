/**
 * The bpf() syscall binding on its own: attr layouts (a map round trip proves
 * the MAP_* layouts, a program load + test run the PROG_* ones), errno read
 * through koffi (each deliberate failure must come back with its own errno),
 * per-CPU value buffers, freezing, program info. Without a usable kernel the
 * reason is printed and only the pure helpers are checked.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BPF_EXIST, BPF_NOEXIST, bpfSyscallNumber, btfLoad, closeFd, countCpuList, ERRNO, errnoName, KernelError, kernelObjectName,
  mapCreate, mapDelete, mapFreeze, mapGetNextKey, mapLookup, mapUpdate, perCpuValueBytes, possibleCpus, progInfo, progLoad,
  progTestRun, xdpMd, XDP_MD_SIZE,
} from '../../xdp/kernel/bpf-syscall.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { UnsupportedError } from '../../xdp/errors.js';
import { encode, makeInsn } from '../../xdp/isa/insn.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);

/** Expect `fn` to throw a KernelError for `command` with errno `name`. */
function expectErrno(fn: () => unknown, command: string, name: string): KernelError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KernelError);
  const e = caught as KernelError;
  expect(e.command).toBe(command);
  expect(e.errnoName).toBe(name);
  expect(e.errno).toBe(ERRNO[name]);
  expect(e.message).toContain(name);
  return e;
}

describe('pure helpers', () => {
  it('picks SYS_bpf by architecture and refuses the others by name', () => {
    expect(bpfSyscallNumber('x64')).toBe(321);
    expect(bpfSyscallNumber('arm64')).toBe(280);
    expect(() => bpfSyscallNumber('riscv64')).toThrow(UnsupportedError);
    expect(() => bpfSyscallNumber('riscv64')).toThrow(/riscv64/);
  });

  it('counts CPU lists as the kernel writes them', () => {
    expect(countCpuList('0\n')).toBe(1);
    expect(countCpuList('0-1\n')).toBe(2);
    expect(countCpuList('0-3,8,10-11')).toBe(7);
    expect(() => countCpuList('zero')).toThrow(/CPU list/);
    expect(perCpuValueBytes(16, 2)).toBe(32);
    expect(perCpuValueBytes(4, 3)).toBe(24);
    expect(perCpuValueBytes(12, 1)).toBe(16);
  });

  it('makes object names the kernel accepts', () => {
    expect(kernelObjectName('rodata_c.rodata')).toBe('rodata_c.rodata');
    expect(kernelObjectName('xdp_proto_count_percpu')).toBe('xdp_proto_count');
    expect(kernelObjectName('a-b c/d')).toBe('a_b_c_d');
  });

  it('lays out struct xdp_md', () => {
    const md = xdpMd({ dataLength: 60, ingressIfindex: 1, rxQueueIndex: 2 });
    expect(md.length).toBe(XDP_MD_SIZE);
    expect([...new Uint32Array(md.buffer)]).toEqual([0, 60, 0, 1, 2, 0]);
  });

  it('names errnos', () => {
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(7)).toBe('E2BIG');
    expect(errnoName(13)).toBe('EACCES');
    expect(errnoName(28)).toBe('ENOSPC');
    expect(errnoName(9999)).toBe('errno 9999');
  });
});

const available = kernelAvailable();

if (!available.ok) console.log(`SKIP bpf() against the running kernel: ${available.reason}`);

describe.skipIf(!available.ok)(`bpf() against the running kernel${available.ok ? '' : ` (skipped: ${available.reason})`}`, () => {

  it('creates, fills, iterates and empties a HASH map; errno comes back right for each failure', () => {
    const fd = mapCreate({ type: MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 2, name: 'test_hash' });
    try {
      // ENOENT: lookup and delete of a missing key.
      expectErrno(() => mapLookup(fd, u32(7), 8), 'BPF_MAP_LOOKUP_ELEM', 'ENOENT');
      expectErrno(() => mapDelete(fd, u32(7)), 'BPF_MAP_DELETE_ELEM', 'ENOENT');
      // ENOENT from an EXIST update of a missing key.
      expectErrno(() => mapUpdate(fd, u32(7), u64(1n), BPF_EXIST), 'BPF_MAP_UPDATE_ELEM', 'ENOENT');
      mapUpdate(fd, u32(1), u64(0x1122334455667788n));
      mapUpdate(fd, u32(2), u64(2n));
      // EEXIST: NOEXIST on a present key; E2BIG: a third key in a 2-entry map.
      expectErrno(() => mapUpdate(fd, u32(1), u64(9n), BPF_NOEXIST), 'BPF_MAP_UPDATE_ELEM', 'EEXIST');
      expectErrno(() => mapUpdate(fd, u32(3), u64(3n)), 'BPF_MAP_UPDATE_ELEM', 'E2BIG');
      expect(Buffer.from(mapLookup(fd, u32(1), 8)).readBigUInt64LE(0)).toBe(0x1122334455667788n);
      const keys: number[] = [];
      for (let k = mapGetNextKey(fd, undefined, 4); k; k = mapGetNextKey(fd, k, 4)) keys.push(Buffer.from(k).readUInt32LE(0));
      expect(keys.sort()).toEqual([1, 2]);
      mapDelete(fd, u32(1));
      mapDelete(fd, u32(2));
      expect(mapGetNextKey(fd, undefined, 4)).toBeUndefined();
    } finally {
      closeFd(fd);
    }
  });

  it('reports EINVAL for an impossible map and EBADF for a closed fd', () => {
    expectErrno(() => mapCreate({ type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 0 }), 'BPF_MAP_CREATE', 'EINVAL');
    expectErrno(() => mapCreate({ type: MAP_TYPE.ARRAY, keySize: 8, valueSize: 4, maxEntries: 1 }), 'BPF_MAP_CREATE', 'EINVAL');
    const fd = mapCreate({ type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    closeFd(fd);
    // The value's size is read from the map first (mapValueBytes), so a closed fd fails there
    // (EBADFD from bpf_obj_get_info_by_fd on recent kernels, EBADF on older ones).
    let caught: unknown;
    try {
      mapLookup(fd, u32(0), 4);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(KernelError);
    expect((caught as KernelError).command).toBe('BPF_OBJ_GET_INFO_BY_FD');
    expect(['EBADF', 'EBADFD']).toContain((caught as KernelError).errnoName);
    expectErrno(() => closeFd(fd), 'close', 'EBADF');
  });

  it('freezes a map: user-space writes then fail with EPERM, reads still work', () => {
    const fd = mapCreate({ type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, flags: 1 << 7 });
    try {
      mapUpdate(fd, u32(0), u32(23));
      mapFreeze(fd);
      expectErrno(() => mapUpdate(fd, u32(0), u32(24)), 'BPF_MAP_UPDATE_ELEM', 'EPERM');
      expect([...mapLookup(fd, u32(0), 4)]).toEqual([23, 0, 0, 0]);
    } finally {
      closeFd(fd);
    }
  });

  it('reads and writes per-CPU values as round_up(value_size, 8) × possible CPUs', () => {
    const cpus = possibleCpus();
    expect(cpus).toBe(countCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8')));
    const fd = mapCreate({ type: MAP_TYPE.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    try {
      const size = perCpuValueBytes(4, cpus);
      const value = new Uint8Array(size);
      for (let c = 0; c < cpus; c++) value[c * 8] = c + 1;
      mapUpdate(fd, u32(0), value);
      expect([...mapLookup(fd, u32(0), size)]).toEqual([...value]);
    } finally {
      closeFd(fd);
    }
  });

  it('loads a hand-written program, runs it and reads its info; a bad one is refused with the verifier log', () => {
    // r0 = 1 (XDP_DROP); exit
    const drop = encode([makeInsn(0xb7, 0, 0, 0, 1), makeInsn(0x95)]);
    const p = progLoad({ insns: drop, license: 'GPL', name: 'drop_test' });
    try {
      expect(p.log).toMatch(/processed 2 insns/);
      const r = progTestRun(p.fd, { data: new Uint8Array(64), repeat: 10 });
      expect(r.retval).toBe(1);
      expect(r.dataOut.length).toBe(64);
      const info = progInfo(p.fd);
      expect(info.type).toBe(6);
      expect(info.name).toBe('drop_test');
      expect(info.verifiedInsns).toBe(2);
      expect(info.xlatedInsns).toBe(2);
      expect(info.jitedProgLen).toBeGreaterThan(0);
      // Below ETH_HLEN the kernel refuses the data.
      expectErrno(() => progTestRun(p.fd, { data: new Uint8Array(13) }), 'BPF_PROG_TEST_RUN', 'EINVAL');
    } finally {
      closeFd(p.fd);
    }
    // exit with r0 never written: refused for everyone.
    const e = expectErrno(() => progLoad({ insns: encode([makeInsn(0x95)]), license: 'GPL' }), 'BPF_PROG_LOAD', 'EACCES');
    expect(e.log).toMatch(/R0 !read_ok/);
    expect(e.message).toMatch(/R0 !read_ok/);
  });

  it('a verifier log that overflows its buffer does not fail a good program: the verdict is asked again, the log\'s end kept', () => {
    const insns = encode([makeInsn(0xb7, 0, 0, 0, 1), makeInsn(0xb7, 0, 0, 0, 2), makeInsn(0xb7, 0, 0, 0, 1), makeInsn(0x95)]);
    const r = progLoad({ insns, license: 'GPL', logLevel: 2, logSize: 64 });
    try {
      expect(r.fd).toBeGreaterThan(0);
      expect(r.logTruncated).toBe(true);
      expect(r.log.length).toBeLessThan(64);
      expect(r.log).toMatch(/mark_read \d+\n$/);
    } finally {
      closeFd(r.fd);
    }
  });

  it('refuses malformed BTF with the checker\'s log', () => {
    const e = expectErrno(() => btfLoad(new Uint8Array(24)), 'BPF_BTF_LOAD', 'EINVAL');
    expect(e.log.length).toBeGreaterThan(0);
  });
});

/**
 * Loads and stores as the engines perform them: through the region a pointer
 * names, little-endian (as on x86-64 and arm64, where the kernel runs these
 * programs), with the XDP context's pointer fields read the way the kernel
 * rewrites them (a 32-bit load of `xdp_md.data` yields a full packet pointer).
 */
import { MemoryFault, RegionKind } from './memory.js';
import { readCtxField } from './xdp-buff.js';
import type { Vm } from './vm.js';

/** Load `size` bytes at (hi, at) into out[0..1], sign- or zero-extended. */
export function readMem(vm: Vm, hi: number, at: number, size: number, signed: boolean, out: Int32Array): void {
  const r = vm.memory.resolve(hi, at, size, false);
  if (r.kind === RegionKind.CTX) {
    readCtxField(vm, at, size, out);
    return;
  }
  const v = r.view;
  switch (size) {
    case 1: {
      const x = signed ? v.getInt8(at) : v.getUint8(at);
      out[0] = x;
      out[1] = signed ? x >> 31 : 0;
      return;
    }
    case 2: {
      const x = signed ? v.getInt16(at, true) : v.getUint16(at, true);
      out[0] = x;
      out[1] = signed ? x >> 31 : 0;
      return;
    }
    case 4: {
      const x = v.getInt32(at, true);
      out[0] = x;
      out[1] = signed ? x >> 31 : 0;
      return;
    }
    default:
      out[0] = v.getInt32(at, true);
      out[1] = v.getInt32(at + 4, true);
  }
}

/** Store the low `size` bytes of (lo, hi) at (ptrHi, at). */
export function writeMem(vm: Vm, ptrHi: number, at: number, size: number, lo: number, hi: number): void {
  const r = vm.memory.resolve(ptrHi, at, size, true);
  if (r.kind === RegionKind.CTX) throw new MemoryFault('the XDP context is read-only to programs running on the host');
  const v = r.view;
  switch (size) {
    case 1: v.setUint8(at, lo & 0xff); return;
    case 2: v.setUint16(at, lo & 0xffff, true); return;
    case 4: v.setInt32(at, lo, true); return;
    default:
      v.setInt32(at, lo, true);
      v.setInt32(at + 4, hi, true);
  }
}

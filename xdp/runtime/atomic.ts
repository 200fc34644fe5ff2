/**
 * The atomic read-modify-write instructions (RFC 9669 §5.3) over vm.regs:
 * `d` and `s` are the register-file indices (2 × register number) of the
 * address and source registers. The host runs one packet at a time, so a
 * plain read-modify-write is atomic here.
 */
import { readMem, writeMem } from './mem-access.js';
import type { Vm } from './vm.js';

export function atomicOp(vm: Vm, op: string, fetch: boolean, size: 4 | 8, d: number, s: number, off: number): void {
  const R = vm.regs;
  const out = vm.scratch;
  const hi = R[d + 1]!;
  const at = (R[d]! + off) | 0;
  readMem(vm, hi, at, size, false, out);
  const olo = out[0]!;
  const ohi = size === 8 ? out[1]! : 0;
  const slo = R[s]!;
  const shi = size === 8 ? R[s + 1]! : 0;
  let nlo = olo;
  let nhi = ohi;
  switch (op) {
    case 'add':
      nlo = (olo + slo) | 0;
      nhi = (ohi + shi + ((olo >>> 0) + (slo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
      break;
    case 'or': nlo = olo | slo; nhi = ohi | shi; break;
    case 'and': nlo = olo & slo; nhi = ohi & shi; break;
    case 'xor': nlo = olo ^ slo; nhi = ohi ^ shi; break;
    case 'xchg': nlo = slo; nhi = shi; break;
    case 'cmpxchg': {
      const elo = R[0]!;
      const ehi = size === 8 ? R[1]! : 0;
      if (elo === olo && ehi === ohi) {
        nlo = slo;
        nhi = shi;
      }
      R[0] = olo;
      R[1] = ohi;
      if (olo !== nlo || ohi !== nhi) writeMem(vm, hi, at, size, nlo, nhi);
      return;
    }
  }
  writeMem(vm, hi, at, size, nlo, size === 8 ? nhi : 0);
  if (fetch) {
    R[s] = olo;
    R[s + 1] = ohi;
  }
}

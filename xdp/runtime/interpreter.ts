/**
 * The reference engine: one instruction at a time, straight from RFC 9669's
 * semantics, over the prepared program. Slow and obvious on purpose — the
 * compiling engine is tested against it.
 */
import type { ExecProgram } from './exec-program.js';
import {
  arsh64, bswap, lsh64, mul64, rsh64, scmp64, sdiv32, sdiv64, smod32, smod64, truncate, ucmp64, udiv32, udiv64,
  umod32, umod64,
} from './alu64.js';
import { atomicOp } from './atomic.js';
import { readMem, writeMem } from './mem-access.js';
import { ExecFault, MAX_CALL_FRAMES, budgetExhausted, faultAt, frameTop, missingHelper, type Vm } from './vm.js';

interface Frame {
  readonly ret: number;
  /** r6..r9 and r10 of the caller, as pairs. */
  readonly saved: Int32Array;
}

/** Run `prog` from its entry with the registers already in vm.regs; returns when it exits or tail-calls. */
export function interpret(prog: ExecProgram, vm: Vm): void {
  const R = vm.regs;
  const out = vm.scratch;
  const frames: Frame[] = [];
  R[20] = frameTop(0);
  R[21] = vm.stack.id;
  let pc = 0;
  try {
    run();
  } catch (e) {
    throw faultAt(e, pc, prog.name);
  }
  function run(): void {
  for (;;) {
    if (pc < 0 || pc >= prog.length) throw new ExecFault(`jump or fall-through to slot ${pc}, outside the program`, pc, prog.name);
    const k = prog.kinds[pc];
    if (k === undefined) throw new ExecFault('jump into the middle of an lddw', pc, prog.name);
    if (--vm.budget < 0) throw new ExecFault(budgetExhausted(vm.budgetLimit), pc, prog.name);
    const d = prog.dst[pc]! * 2;
    const s = prog.src[pc]! * 2;
    const off = prog.off[pc]!;
    const imm = prog.imm[pc]!;
    switch (k.k) {
      case 'alu': {
        const blo = k.useReg ? R[s]! : imm;
        const bhi = k.useReg ? R[s + 1]! : imm >> 31;
        const alo = R[d]!;
        const ahi = R[d + 1]!;
        if (k.width === 32) {
          let v: number;
          switch (k.op) {
            case 'add': v = (alo + blo) | 0; break;
            case 'sub': v = (alo - blo) | 0; break;
            case 'mul': v = Math.imul(alo, blo); break;
            case 'div': v = udiv32(alo, blo); break;
            case 'sdiv': v = sdiv32(alo, blo); break;
            case 'mod': v = umod32(alo, blo); break;
            case 'smod': v = smod32(alo, blo); break;
            case 'or': v = alo | blo; break;
            case 'and': v = alo & blo; break;
            case 'xor': v = alo ^ blo; break;
            case 'lsh': v = alo << (blo & 31); break;
            case 'rsh': v = alo >>> (blo & 31); break;
            case 'arsh': v = alo >> (blo & 31); break;
            case 'neg': v = -alo | 0; break;
            case 'mov': v = blo; break;
            case 'movsx': v = k.fromBits === 8 ? (R[s]! << 24) >> 24 : (R[s]! << 16) >> 16; break;
          }
          R[d] = v;
          R[d + 1] = 0;
        } else {
          switch (k.op) {
            case 'add': {
              const lo = (alo + blo) | 0;
              R[d + 1] = (ahi + bhi + ((alo >>> 0) + (blo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
              R[d] = lo;
              break;
            }
            case 'sub': {
              const lo = (alo - blo) | 0;
              R[d + 1] = (ahi - bhi - ((alo >>> 0) < (blo >>> 0) ? 1 : 0)) | 0;
              R[d] = lo;
              break;
            }
            case 'mul': mul64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case 'div': udiv64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case 'sdiv': sdiv64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case 'mod': umod64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case 'smod': smod64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case 'or': R[d] = alo | blo; R[d + 1] = ahi | bhi; break;
            case 'and': R[d] = alo & blo; R[d + 1] = ahi & bhi; break;
            case 'xor': R[d] = alo ^ blo; R[d + 1] = ahi ^ bhi; break;
            case 'lsh': lsh64(alo, ahi, blo, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case 'rsh': rsh64(alo, ahi, blo, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case 'arsh': arsh64(alo, ahi, blo, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case 'neg': {
              const lo = -alo | 0;
              R[d + 1] = (~ahi + (alo === 0 ? 1 : 0)) | 0;
              R[d] = lo;
              break;
            }
            case 'mov': R[d] = blo; R[d + 1] = bhi; break;
            case 'movsx': {
              const v = k.fromBits === 8 ? (R[s]! << 24) >> 24 : k.fromBits === 16 ? (R[s]! << 16) >> 16 : R[s]!;
              R[d] = v;
              R[d + 1] = v >> 31;
              break;
            }
          }
        }
        break;
      }
      case 'end':
        if (k.order === 'le') truncate(R[d]!, R[d + 1]!, k.bits, out);
        else bswap(R[d]!, R[d + 1]!, k.bits, out);
        R[d] = out[0]!;
        R[d + 1] = out[1]!;
        break;
      case 'ja':
        pc += (k.long ? imm : off) + 1;
        continue;
      case 'jcond': {
        const blo = k.useReg ? R[s]! : imm;
        const bhi = k.useReg ? R[s + 1]! : imm >> 31;
        let taken: boolean;
        if (k.width === 32) {
          const a = R[d]!;
          switch (k.op) {
            case 'jeq': taken = a === blo; break;
            case 'jne': taken = a !== blo; break;
            case 'jset': taken = (a & blo) !== 0; break;
            case 'jgt': taken = a >>> 0 > blo >>> 0; break;
            case 'jge': taken = a >>> 0 >= blo >>> 0; break;
            case 'jlt': taken = a >>> 0 < blo >>> 0; break;
            case 'jle': taken = a >>> 0 <= blo >>> 0; break;
            case 'jsgt': taken = a > blo; break;
            case 'jsge': taken = a >= blo; break;
            case 'jslt': taken = a < blo; break;
            case 'jsle': taken = a <= blo; break;
          }
        } else {
          const alo = R[d]!;
          const ahi = R[d + 1]!;
          switch (k.op) {
            case 'jeq': taken = alo === blo && ahi === bhi; break;
            case 'jne': taken = alo !== blo || ahi !== bhi; break;
            case 'jset': taken = (alo & blo) !== 0 || (ahi & bhi) !== 0; break;
            case 'jgt': taken = ucmp64(alo, ahi, blo, bhi) > 0; break;
            case 'jge': taken = ucmp64(alo, ahi, blo, bhi) >= 0; break;
            case 'jlt': taken = ucmp64(alo, ahi, blo, bhi) < 0; break;
            case 'jle': taken = ucmp64(alo, ahi, blo, bhi) <= 0; break;
            case 'jsgt': taken = scmp64(alo, ahi, blo, bhi) > 0; break;
            case 'jsge': taken = scmp64(alo, ahi, blo, bhi) >= 0; break;
            case 'jslt': taken = scmp64(alo, ahi, blo, bhi) < 0; break;
            case 'jsle': taken = scmp64(alo, ahi, blo, bhi) <= 0; break;
          }
        }
        pc += taken ? off + 1 : 1;
        continue;
      }
      case 'call':
        if (k.target === 'helper') {
          const fn = vm.helpers[imm];
          if (fn === undefined) throw new ExecFault(missingHelper(imm), pc, prog.name);
          fn(vm);
          if (vm.tailCall !== undefined) return;
          break;
        }
        if (k.target === 'local') {
          if (frames.length + 1 >= MAX_CALL_FRAMES) throw new ExecFault(`call depth exceeds ${MAX_CALL_FRAMES} frames`, pc, prog.name);
          frames.push({ ret: pc + 1, saved: R.slice(12, 22) });
          R[20] = frameTop(frames.length);
          pc += imm + 1;
          continue;
        }
        throw new ExecFault(k.target === 'kfunc' ? `kfunc call (BTF id ${imm}) cannot run on the host` : 'callx is not supported', pc, prog.name);
      case 'exit': {
        const f = frames.pop();
        if (f === undefined) return;
        R.set(f.saved, 12);
        pc = f.ret;
        continue;
      }
      case 'lddw':
        R[d] = imm;
        R[d + 1] = prog.imm2[pc]!;
        pc += 2;
        continue;
      case 'ldx':
        readMem(vm, R[s + 1]!, (R[s]! + off) | 0, k.size, k.signed, out);
        R[d] = out[0]!;
        R[d + 1] = out[1]!;
        break;
      case 'st':
        writeMem(vm, R[d + 1]!, (R[d]! + off) | 0, k.size, imm, imm >> 31);
        break;
      case 'stx':
        writeMem(vm, R[d + 1]!, (R[d]! + off) | 0, k.size, R[s]!, R[s + 1]!);
        break;
      case 'atomic':
        atomicOp(vm, k.op, k.fetch, k.size, d, s, off);
        break;
      case 'ldpkt':
        throw new ExecFault('legacy packet loads (LD_ABS/LD_IND) are not allowed in XDP programs', pc, prog.name);
      case 'invalid':
        throw new ExecFault(`invalid instruction: ${k.reason}`, pc, prog.name);
    }
    pc++;
  }
  }
}


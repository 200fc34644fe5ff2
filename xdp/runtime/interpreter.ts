/**
 * The reference engine: one instruction at a time, straight from RFC 9669's
 * semantics, over the prepared program. Obvious on purpose — the compiling
 * engine is tested against it — but dispatched on small numbers (a kind and an
 * operation code per slot, derived once per program) rather than strings, so
 * that it stays above a million packets a second.
 */
import { blockCosts } from './blocks.js';
import type { ExecProgram } from './exec-program.js';
import type { InsnKind } from '../isa/kind.js';
import {
  arsh64, bswap, lsh64, mul64, rsh64, scmp64, sdiv32, sdiv64, smod32, smod64, truncate, ucmp64, udiv32, udiv64,
  umod32, umod64,
} from './alu64.js';
import { atomicOp } from './atomic.js';
import { readMem, writeMem } from './mem-access.js';
import { RegionKind } from './memory.js';
import { ExecFault, MAX_CALL_FRAMES, budgetExhausted, faultAt, frameTop, missingHelper, type Vm } from './vm.js';
import { kfuncOnHostMessage } from './kernel-only.js';

/** Kind codes (KINDS[i] is the InsnKind tag of code i). */
const KINDS = ['invalid', 'alu', 'end', 'ja', 'jcond', 'call', 'exit', 'lddw', 'ldpkt', 'ldx', 'st', 'stx', 'atomic', 'maygoto'] as const;
const enum K { INVALID, ALU, END, JA, JCOND, CALL, EXIT, LDDW, LDPKT, LDX, ST, STX, ATOMIC, MAYGOTO }
/** Operation codes of ALU and conditional-jump instructions (index into these lists). */
const ALU_OPS = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'neg', 'mod', 'smod', 'xor', 'mov', 'movsx', 'arsh'] as const;
const enum A { ADD, SUB, MUL, DIV, SDIV, OR, AND, LSH, RSH, NEG, MOD, SMOD, XOR, MOV, MOVSX, ARSH }
const JMP_OPS = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'] as const;
const enum J { JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, JLT, JLE, JSLT, JSLE }

interface Codes {
  readonly kind: Uint8Array;
  readonly op: Uint8Array;
  /** Budget charged on entering the block that starts at a slot (0 elsewhere). */
  readonly blockCost: Int32Array;
}

function codesOf(prog: ExecProgram): Codes {
  const kind = new Uint8Array(prog.length);
  const op = new Uint8Array(prog.length);
  prog.kinds.forEach((k: InsnKind | undefined, s) => {
    if (!k) return;
    kind[s] = KINDS.indexOf(k.k);
    if (k.k === 'alu') op[s] = ALU_OPS.indexOf(k.op);
    else if (k.k === 'jcond') op[s] = JMP_OPS.indexOf(k.op);
  });
  return { kind, op, blockCost: blockCosts(prog) };
}

/** An interpreter for `prog`: the dispatch codes are derived once, then every run reuses them. */
export function createInterpreter(prog: ExecProgram): (vm: Vm) => void {
  const codes = codesOf(prog);
  return (vm) => interpret(prog, vm, codes);
}

interface Frame {
  readonly ret: number;
  /** r6..r10 of the caller, as pairs. */
  readonly saved: Int32Array;
}

/** Run `prog` from its entry with the registers already in vm.regs; returns when it exits or tail-calls. */
export function interpret(prog: ExecProgram, vm: Vm, codes: Codes = codesOf(prog)): void {
  const R = vm.regs;
  const out = vm.scratch;
  let frames: Frame[] | undefined;
  const { kind, op } = codes;
  const regions = vm.memory.regions;
  const onInsn = vm.onInsn;
  R[20] = frameTop(0);
  R[21] = vm.stack.id;
  let pc = 0;
  try {
    for (;;) {
      if (pc < 0 || pc >= prog.length) throw new ExecFault(`jump or fall-through to slot ${pc}, outside the program`, pc, prog.name);
      if (onInsn !== undefined) onInsn(pc, R);
      const k = prog.kinds[pc];
      if (k === undefined) throw new ExecFault('jump into the middle of an lddw', pc, prog.name);
      // The budget is charged a block at a time, on entering it, as the compiled engine charges it.
      const cost = codes.blockCost[pc]!;
      if (cost > 0 && (vm.budget -= cost) < 0) throw new ExecFault(budgetExhausted(vm.budgetLimit), pc, prog.name);
      const d = prog.dst[pc]! * 2;
      const s = prog.src[pc]! * 2;
      const off = prog.off[pc]!;
      const imm = prog.imm[pc]!;
      switch (kind[pc]) {
        case K.ALU: {
          const a = k as Extract<InsnKind, { k: 'alu' }>;
          const blo = a.useReg ? R[s]! : imm;
          const bhi = a.useReg ? R[s + 1]! : imm >> 31;
          const alo = R[d]!;
          const ahi = R[d + 1]!;
          if (a.width === 32) {
            let v: number;
            switch (op[pc]) {
              case A.ADD: v = (alo + blo) | 0; break;
              case A.SUB: v = (alo - blo) | 0; break;
              case A.MUL: v = Math.imul(alo, blo); break;
              case A.DIV: v = udiv32(alo, blo); break;
              case A.SDIV: v = sdiv32(alo, blo); break;
              case A.MOD: v = umod32(alo, blo); break;
              case A.SMOD: v = smod32(alo, blo); break;
              case A.OR: v = alo | blo; break;
              case A.AND: v = alo & blo; break;
              case A.XOR: v = alo ^ blo; break;
              case A.LSH: v = alo << (blo & 31); break;
              case A.RSH: v = alo >>> (blo & 31); break;
              case A.ARSH: v = alo >> (blo & 31); break;
              case A.NEG: v = -alo | 0; break;
              case A.MOV: v = blo; break;
              default: v = a.fromBits === 8 ? (R[s]! << 24) >> 24 : (R[s]! << 16) >> 16; // movsx
            }
            R[d] = v;
            R[d + 1] = 0;
            break;
          }
          switch (op[pc]) {
            case A.ADD: {
              const lo = (alo + blo) | 0;
              R[d + 1] = (ahi + bhi + ((alo >>> 0) + (blo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
              R[d] = lo;
              break;
            }
            case A.SUB: {
              const lo = (alo - blo) | 0;
              R[d + 1] = (ahi - bhi - ((alo >>> 0) < (blo >>> 0) ? 1 : 0)) | 0;
              R[d] = lo;
              break;
            }
            case A.MUL: mul64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case A.DIV: udiv64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case A.SDIV: sdiv64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case A.MOD: umod64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case A.SMOD: smod64(alo, ahi, blo, bhi, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case A.OR: R[d] = alo | blo; R[d + 1] = ahi | bhi; break;
            case A.AND: R[d] = alo & blo; R[d + 1] = ahi & bhi; break;
            case A.XOR: R[d] = alo ^ blo; R[d + 1] = ahi ^ bhi; break;
            case A.LSH: lsh64(alo, ahi, blo, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case A.RSH: rsh64(alo, ahi, blo, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case A.ARSH: arsh64(alo, ahi, blo, out); R[d] = out[0]!; R[d + 1] = out[1]!; break;
            case A.NEG: {
              const lo = -alo | 0;
              R[d + 1] = (~ahi + (alo === 0 ? 1 : 0)) | 0;
              R[d] = lo;
              break;
            }
            case A.MOV: R[d] = blo; R[d + 1] = bhi; break;
            default: { // movsx
              const v = a.fromBits === 8 ? (R[s]! << 24) >> 24 : a.fromBits === 16 ? (R[s]! << 16) >> 16 : R[s]!;
              R[d] = v;
              R[d + 1] = v >> 31;
            }
          }
          break;
        }
        case K.END: {
          const e = k as Extract<InsnKind, { k: 'end' }>;
          if (e.order === 'le') truncate(R[d]!, R[d + 1]!, e.bits, out);
          else bswap(R[d]!, R[d + 1]!, e.bits, out);
          R[d] = out[0]!;
          R[d + 1] = out[1]!;
          break;
        }
        case K.JA:
          pc += ((k as Extract<InsnKind, { k: 'ja' }>).long ? imm : off) + 1;
          continue;
        case K.MAYGOTO:
          if (vm.mayGoto === 0) {
            pc += off + 1;
            continue;
          }
          vm.mayGoto--;
          break;
        case K.JCOND: {
          const j = k as Extract<InsnKind, { k: 'jcond' }>;
          const blo = j.useReg ? R[s]! : imm;
          const bhi = j.useReg ? R[s + 1]! : imm >> 31;
          let taken: boolean;
          if (j.width === 32) {
            const x = R[d]!;
            switch (op[pc]) {
              case J.JEQ: taken = x === blo; break;
              case J.JNE: taken = x !== blo; break;
              case J.JSET: taken = (x & blo) !== 0; break;
              case J.JGT: taken = x >>> 0 > blo >>> 0; break;
              case J.JGE: taken = x >>> 0 >= blo >>> 0; break;
              case J.JLT: taken = x >>> 0 < blo >>> 0; break;
              case J.JLE: taken = x >>> 0 <= blo >>> 0; break;
              case J.JSGT: taken = x > blo; break;
              case J.JSGE: taken = x >= blo; break;
              case J.JSLT: taken = x < blo; break;
              default: taken = x <= blo; // jsle
            }
          } else {
            const alo = R[d]!;
            const ahi = R[d + 1]!;
            switch (op[pc]) {
              case J.JEQ: taken = alo === blo && ahi === bhi; break;
              case J.JNE: taken = alo !== blo || ahi !== bhi; break;
              case J.JSET: taken = (alo & blo) !== 0 || (ahi & bhi) !== 0; break;
              case J.JGT: taken = ucmp64(alo, ahi, blo, bhi) > 0; break;
              case J.JGE: taken = ucmp64(alo, ahi, blo, bhi) >= 0; break;
              case J.JLT: taken = ucmp64(alo, ahi, blo, bhi) < 0; break;
              case J.JLE: taken = ucmp64(alo, ahi, blo, bhi) <= 0; break;
              case J.JSGT: taken = scmp64(alo, ahi, blo, bhi) > 0; break;
              case J.JSGE: taken = scmp64(alo, ahi, blo, bhi) >= 0; break;
              case J.JSLT: taken = scmp64(alo, ahi, blo, bhi) < 0; break;
              default: taken = scmp64(alo, ahi, blo, bhi) <= 0; // jsle
            }
          }
          pc += taken ? off + 1 : 1;
          continue;
        }
        case K.CALL: {
          const target = (k as Extract<InsnKind, { k: 'call' }>).target;
          if (target === 'helper') {
            const fn = vm.helpers[imm];
            if (fn === undefined) throw new ExecFault(missingHelper(imm), pc, prog.name);
            fn(vm);
            if (vm.tailCall !== undefined) return;
            break;
          }
          if (target === 'local') {
            frames ??= [];
            if (frames.length + 1 >= MAX_CALL_FRAMES) throw new ExecFault(`call depth exceeds ${MAX_CALL_FRAMES} frames`, pc, prog.name);
            frames.push({ ret: pc + 1, saved: R.slice(12, 22) });
            R[20] = frameTop(frames.length);
            pc += imm + 1;
            continue;
          }
          throw new ExecFault(target === 'kfunc' ? kfuncOnHostMessage(prog.kfuncs[imm] ?? `#${imm}`) : 'callx is not supported', pc, prog.name);
        }
        case K.EXIT: {
          const f = frames?.pop();
          if (f === undefined) return;
          R.set(f.saved, 12);
          pc = f.ret;
          continue;
        }
        case K.LDDW:
          R[d] = imm;
          R[d + 1] = prog.imm2[pc]!;
          pc += 2;
          continue;
        case K.LDX: {
          const l = k as Extract<InsnKind, { k: 'ldx' }>;
          const at = (R[s]! + off) | 0;
          const g = regions[R[s + 1]!];
          // Plain memory is read here; the context, faults and everything unusual go through readMem.
          if (g !== undefined && g.kind !== RegionKind.CTX && at >= g.lo && at + l.size <= g.hi && !l.signed) {
            const v = g.view;
            if (l.size === 1) { R[d] = v.getUint8(at); R[d + 1] = 0; }
            else if (l.size === 2) { R[d] = v.getUint16(at, true); R[d + 1] = 0; }
            else if (l.size === 4) { R[d] = v.getInt32(at, true); R[d + 1] = 0; }
            else { R[d] = v.getInt32(at, true); R[d + 1] = v.getInt32(at + 4, true); }
            break;
          }
          readMem(vm, R[s + 1]!, at, l.size, l.signed, out);
          R[d] = out[0]!;
          R[d + 1] = out[1]!;
          break;
        }
        case K.ST:
          writeMem(vm, R[d + 1]!, (R[d]! + off) | 0, (k as Extract<InsnKind, { k: 'st' }>).size, imm, imm >> 31);
          break;
        case K.STX:
          writeMem(vm, R[d + 1]!, (R[d]! + off) | 0, (k as Extract<InsnKind, { k: 'stx' }>).size, R[s]!, R[s + 1]!);
          break;
        case K.ATOMIC: {
          const a = k as Extract<InsnKind, { k: 'atomic' }>;
          atomicOp(vm, a.op, a.fetch, a.size, d, s, off);
          break;
        }
        case K.LDPKT:
          throw new ExecFault('legacy packet loads (LD_ABS/LD_IND) are not allowed in XDP programs', pc, prog.name);
        default:
          throw new ExecFault(`invalid instruction: ${(k as Extract<InsnKind, { k: 'invalid' }>).reason}`, pc, prog.name);
      }
      pc++;
    }
  } catch (e) {
    throw faultAt(e, pc, prog.name);
  }
}

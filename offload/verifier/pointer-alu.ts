/**
 * Arithmetic with a pointer operand (adjust_ptr_min_max_vals): what each
 * pointer type allows, offsets that would wrap (check_reg_sane_offset), and
 * the bounds a loader without CAP_PERFMON must keep to (sanitize_ptr_alu,
 * sanitize_check_bounds).
 */
import type { Insn } from '../../xdp/isa/insn.js';
import { checkHelperMem } from './mem-checks.js';
import {
  isPacket, isPointer, typeName, unknownReg, type RegState,
} from './reg-state.js';
import {
  constValue, isConst, scalarAlu, S64_MIN, type AluOp, 
} from './scalar.js';
import { MAX_BPF_STACK, type VerifierState } from './state.js';
import { tnumText } from './tnum.js';
import type { Walk } from './verifier.js';
import { VerifyError } from './verify-error.js';

/** Offsets a pointer may carry (BPF_MAX_VAR_OFF). */
const MAX_VAR_OFF = 1 << 29;
const OP_TEXT: Readonly<Record<string, string>> = {
  add: '+=', sub: '-=', mul: '*=', div: '/=', sdiv: 's/=', mod: '%=', smod: 's%=', or: '|=', and: '&=', xor: '^=',
  lsh: '<<=', rsh: '>>=', arsh: 's>>=', neg: 'neg', mov: '=', movsx: '=',
};

/** Arithmetic with a pointer operand (adjust_ptr_min_max_vals). */
export function pointerAlu(w: Walk, pc: number, insn: Insn, useReg: boolean, op: AluOp, width: 32 | 64, dst: RegState, src: RegState, st: VerifierState): RegState {
  const dreg = insn.dst;
  if (width === 32) {
    if (op === 'sub' && w.privileged) return unknownReg();
    throw new VerifyError(`R${dreg} 32-bit pointer arithmetic prohibited`, pc);
  }
  if (isPointer(dst) && isPointer(src)) {
    if (op === 'sub' && w.privileged) return unknownReg();
    throw new VerifyError(`R${dreg} pointer ${OP_TEXT[op]} pointer prohibited`, pc);
  }
  let ptr = dst;
  let scalar = src;
  if (!isPointer(dst)) {
    // scalar += pointer is pointer arithmetic with the operands swapped.
    if (op !== 'add') {
      if (w.privileged) return unknownReg();
      throw new VerifyError(`R${dreg} pointer arithmetic with ${OP_TEXT[op]} operator prohibited`, pc);
    }
    ptr = src;
    scalar = dst;
  }
  if (op !== 'add' && op !== 'sub') {
    if (op === 'and' || op === 'or' || op === 'xor') throw new VerifyError(`R${dreg} bitwise operator ${OP_TEXT[op]} on pointer prohibited`, pc);
    throw new VerifyError(`R${dreg} pointer arithmetic with ${OP_TEXT[op]} operator prohibited`, pc);
  }
  switch (ptr.type) {
    case 'pkt_end':
      throw new VerifyError(`R${dreg} pointer arithmetic on pkt_end prohibited`, pc);
    case 'map_ptr':
      throw new VerifyError(`R${dreg} pointer arithmetic on map_ptr prohibited`, pc);
    case 'map_value_or_null':
    case 'ringbuf_mem_or_null':
      throw new VerifyError(`R${dreg} pointer arithmetic on ${ptr.type === 'map_value_or_null' ? 'map_value_or_null' : 'mem_or_null'} prohibited, null-check it first`, pc);
    default:
      break;
  }
  if (op === 'sub' && !isPointer(dst)) throw new VerifyError(`R${dreg} tried to subtract pointer from scalar`, pc);
  // Without CAP_PERFMON, speculation may not take a register offset to pointers it cannot mask (sanitize_ptr_alu).
  if (!w.privileged && useReg && !isConst(scalar.s) && (scalar.s.smin < 0n) !== (scalar.s.smax < 0n)) {
    throw new VerifyError(`R${isPointer(dst) ? insn.src : dreg} has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root`, pc);
  }
  if (!w.privileged && useReg && ptr.type !== 'fp' && ptr.type !== 'map_value') {
    throw new VerifyError(`R${isPointer(dst) ? dreg : insn.src} has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root`, pc);
  }
  saneOffset(w, pc, scalar, ptr.type);
  saneOffset(w, pc, ptr, ptr.type);
  let result: RegState;
  if (isConst(scalar.s)) {
    const c = Number(BigInt.asIntN(64, constValue(scalar.s)));
    result = { ...ptr, off: ptr.off + (op === 'add' ? c : -c) };
  } else {
    const s = scalarAlu(op, ptr.s, scalar.s, 64);
    // A packet pointer with a new variable part gets a new id and no proven range.
    result = isPacket(ptr) ? { ...ptr, s, id: ++w.idGen, range: 0 } : { ...ptr, s };
  }
  saneOffset(w, pc, result, ptr.type);
  if (!w.privileged) speculationBounds(w, pc, dreg, result, st);
  return result;
}

/** Offsets far enough to wrap are refused outright (check_reg_sane_offset). */
export function saneOffset(w: Walk, pc: number, r: RegState, type: RegState['type']): void {
  const name = typeName(type);
  if (isConst(r.s)) {
    const v = BigInt.asIntN(64, constValue(r.s));
    if (v >= MAX_VAR_OFF || v <= -MAX_VAR_OFF) throw new VerifyError(`math between ${name} pointer and ${v} is not allowed`, pc);
  }
  if (r.off >= MAX_VAR_OFF || r.off <= -MAX_VAR_OFF) throw new VerifyError(`${name} pointer offset ${r.off} is not allowed`, pc);
  if (r.s.smin === S64_MIN) throw new VerifyError(`math between ${name} pointer and register with unbounded min value is not allowed`, pc);
  if (r.s.smin >= MAX_VAR_OFF || r.s.smin <= -MAX_VAR_OFF) throw new VerifyError(`value ${r.s.smin} makes ${name} pointer be out of bounds`, pc);
}

/** Without CAP_PERFMON a stack or map-value pointer may not even point outside its object (sanitize_check_bounds). */
export function speculationBounds(w: Walk, pc: number, dreg: number, r: RegState, st: VerifierState): void {
  if (r.type === 'fp') {
    if (!isConst(r.s)) throw new VerifyError(`R${dreg} variable stack access prohibited for !root, var_off=${tnumText(r.s.var)} off=${r.off}`, pc);
    const off = r.off + Number(BigInt.asIntN(64, constValue(r.s)));
    if (off >= 0 || off < -MAX_BPF_STACK) throw new VerifyError(`R${dreg} stack pointer arithmetic goes out of range, prohibited for !root; off=${off}`, pc);
  } else if (r.type === 'map_value') {
    try {
      checkHelperMem(w.memContext(st, pc), dreg, r, 1, false);
    } catch (e) {
      if (!(e instanceof VerifyError)) throw e;
      throw new VerifyError(`${e.message}\nR${dreg} pointer arithmetic of map value goes out of range, prohibited for !root`, pc);
    }
  }
}

/**
 * Conditional jumps (the kernel's check_cond_jmp_op): a decided jump follows
 * one side (and, for loaders without CAP_PERFMON, walks the other as a
 * speculative path); an open one splits the path and refines both sides —
 * scalar bounds (synced to every linked copy), NULL checks by id
 * (mark_ptr_or_null_regs), packet ranges proven against data_end
 * (find_good_pkt_pointers).
 */
import type { Insn } from '../../xdp/isa/insn.js';
import type { InsnKind } from '../../xdp/isa/kind.js';
import {
  constReg, isPointer, maybeNull, pointerReg, unknownReg, type RegState,
} from './reg-state.js';
import {
  branchTaken, constScalar, constValue, isConst, refineBranch, scalarAlu, type CmpOp, type Scalar,
} from './scalar.js';
import { Slot, cloneState, curFrame, mapAllRegs, ownStack, type VerifierState } from './state.js';
import { linkEntry } from './precision.js';
import type { Walk, Work } from './verifier.js';
import { VerifyError } from './verify-error.js';

/** Packet offsets a range can be proven for (MAX_PACKET_OFF). */
const MAX_PACKET_OFF = 0xffff;
/** Ranges of a packet pointer proven to be at, or beyond, the end of the packet. */
const AT_PKT_END = -1;
const BEYOND_PKT_END = -2;

/**
 * After a comparison refined a linked scalar on one side of a branch, every copy of it (other
 * registers, other frames, spilled slots) takes the refined value (sync_linked_regs). Returns the
 * copies as precision links (frame, register or slot), for the history.
 */
export function syncLinked(st: VerifierState, reg: RegState): { frame: number; slot: boolean; index: number }[] {
  const links: { frame: number; slot: boolean; index: number }[] = [];
  if (reg.type !== 'scalar' || reg.id === 0) return links;
  // A copy at another distance (`off`, BPF_ADD_CONST) is the known value moved by the difference.
  const moved = (r: RegState): RegState => {
    if (r === reg) return r;
    if (r.off === reg.off) return { ...r, s: reg.s };
    return { ...r, s: scalarAlu('add', reg.s, constScalar(BigInt.asUintN(64, BigInt(r.off - reg.off))), 64) };
  };
  st.frames.forEach((f, frame) => {
    f.regs.forEach((r, i) => {
      if (r.type !== 'scalar' || r.id !== reg.id) return;
      links.push({ frame, slot: false, index: i });
      f.regs[i] = moved(r);
    });
    f.spills.forEach((r, k) => {
      if (!r || r.type !== 'scalar' || r.id !== reg.id || f.kinds[k * 8] !== Slot.SPILL) return;
      links.push({ frame, slot: true, index: k });
      if (r !== reg) {
        ownStack(f);
        f.spills[k] = moved(r);
      }
    });
  });
  return links;
}

export function condJump(w: Walk, pc: number, insn: Insn, k: Extract<InsnKind, { k: 'jcond' }>, st: VerifierState, work: Work): number {
  const f = curFrame(st);
  const target = pc + insn.off + 1;
  const fall = pc + 1;
  const a = w.readReg(f, insn.dst, pc);
  const b = k.useReg ? w.readReg(f, insn.src, pc) : constReg(BigInt.asUintN(64, BigInt(insn.imm)));
  const op = k.op as CmpOp;
  if (!isPointer(a) && !isPointer(b)) {
    const taken = branchTaken(op, a.s, b.s, k.width);
    if (taken >= 0) {
      // Only one way to go: the values that decided it must be exact wherever this path is compared.
      w.needPrecise(st, k.useReg ? [insn.dst, insn.src] : [insn.dst]);
      if (!w.privileged) speculate(w, pc, insn, k.useReg, st, taken === 1 ? fall : target);
      return taken === 1 ? target : fall;
    }
    const other = cloneState(st);
    w.pushBranch(pc, st, other, target, work);
    const onTrue = refineBranch(op, a.s, b.s, k.width, true);
    const onFalse = refineBranch(op, a.s, b.s, k.width, false);
    const apply = (s: VerifierState, pair: [Scalar, Scalar] | undefined) => {
      if (!pair) return;
      const fr = curFrame(s);
      fr.regs[insn.dst] = { ...fr.regs[insn.dst]!, s: pair[0] };
      if (k.useReg) fr.regs[insn.src] = { ...fr.regs[insn.src]!, s: pair[1] };
      const links = syncLinked(s, fr.regs[insn.dst]!);
      if (k.useReg) links.push(...syncLinked(s, fr.regs[insn.src]!));
      if (links.length < 2) return;
      // The links go into the history right after this jump: the pushed side has it already.
      if (s === st) s.pendingLinks = links;
      else for (const l of links) s.hist.push(linkEntry(l.frame, l.slot, l.index));
    };
    apply(other, onTrue);
    apply(st, onFalse);
    return fall;
  }
  // A pointer that cannot be NULL (reg_not_null) is never equal to 0: that compare is decided.
  const neverNull = a.type === 'map_value' || a.type === 'map_ptr' || a.type === 'ringbuf_mem';
  if (neverNull && (op === 'jeq' || op === 'jne') && !isPointer(b) && isConst(b.s) && constValue(b.s) === 0n) {
    const to = op === 'jne' ? target : fall;
    if (!w.privileged) speculate(w, pc, insn, k.useReg, st, op === 'jne' ? fall : target);
    return to;
  }
  // A maybe-NULL pointer compared with 0 becomes the pointer on one side and 0 on the other.
  // Only 64-bit compares are NULL checks or packet bounds checks (a 32-bit one proves nothing of a pointer).
  const nullCheck = k.width === 64 && (op === 'jeq' || op === 'jne') && ((maybeNull(a) && !isPointer(b) && isConst(b.s) && constValue(b.s) === 0n));
  const other = cloneState(st);
  w.pushBranch(pc, st, other, target, work);
  if (nullCheck) {
    const isNullOn = op === 'jeq' ? other : st;
    const notNullOn = op === 'jeq' ? st : other;
    markNull(w, isNullOn, a.id, true);
    markNull(w, notNullOn, a.id, false);
  } else if (k.width === 64 && (a.type === 'pkt' && b.type === 'pkt_end' || a.type === 'pkt_end' && b.type === 'pkt' ||
    a.type === 'pkt_meta' && b.type === 'pkt' || a.type === 'pkt' && b.type === 'pkt_meta')) {
    packetCompare(w, op, a, b, st, other, a.type !== 'pkt_end' && !(a.type === 'pkt' && b.type === 'pkt_meta') ? insn.dst : insn.src);
  } else if (isPointer(a) !== isPointer(b) || (isPointer(a) && isPointer(b))) {
    if (!w.privileged) throw new VerifyError(`R${insn.dst} pointer comparison prohibited`, pc);
  }
  return fall;
}

/**
 * Without CAP_PERFMON the kernel also walks the side of a decided branch the CPU might mispredict
 * into, with the compared registers unknown (sanitize_speculative_path).
 */
function speculate(w: Walk, pc: number, insn: Insn, useReg: boolean, st: VerifierState, to: number): void {
  w.speculate(pc, st, to, (f) => {
    f.regs[insn.dst] = unknownReg();
    if (useReg) f.regs[insn.src] = unknownReg();
  });
}

export function markNull(w: Walk, st: VerifierState, id: number, isNull: boolean): void {
  // A reservation that came back NULL holds nothing to release.
  if (isNull) st.refs = st.refs.filter((ref) => ref.id !== id);
  mapAllRegs(st, (r) => {
    if (!maybeNull(r) || r.id !== id) return r;
    if (isNull) return constReg(0n);
    // A map-in-map's lookup yields the inner map (CONST_PTR_TO_MAP), not a value.
    const inner = r.type === 'map_value_or_null' ? w.innerOf.get(r.map) : undefined;
    if (inner !== undefined) return pointerReg('map_ptr', { map: inner });
    // A ring-buffer record or an acquired kernel object keeps its id: it names the reference a release frees.
    if (r.type === 'map_value_or_null') return { ...r, type: 'map_value', id: 0 };
    return { ...r, type: r.type === 'btf_id_or_null' ? 'btf_id' : 'ringbuf_mem' };
  });
}

/** data' vs data_end comparisons prove packet ranges (try_match_pkt_pointers, find_good_pkt_pointers). */
export function packetCompare(
  w: Walk, op: CmpOp, a: RegState, b: RegState, fallState: VerifierState, takenState: VerifierState, ptrReg: number,
): void {
  // Normalise to "pkt' OP end" (or "meta' OP data").
  const ptrFirst = a.type !== 'pkt_end' && !(a.type === 'pkt' && b.type === 'pkt_meta');
  const ptr = ptrFirst ? a : b;
  const flip: Record<string, CmpOp> = { jgt: 'jlt', jge: 'jle', jlt: 'jgt', jle: 'jge' };
  const o = ptrFirst ? op : flip[op] ?? op;
  // Which side learns ptr' <= end (closed) or ptr' < end (open)?
  let side: VerifierState | undefined;
  let open = false;
  switch (o) {
    case 'jgt': side = fallState; open = false; break; // !(ptr' > end): ptr' <= end
    case 'jge': side = fallState; open = true; break; // !(ptr' >= end): ptr' < end
    case 'jlt': side = takenState; open = true; break;
    case 'jle': side = takenState; open = false; break;
    default: return;
  }
  // The other side learns the compared pointer is at or past the end (mark_pkt_end).
  const past = side === fallState ? takenState : fallState;
  const pf = curFrame(past);
  if (pf.regs[ptrReg]!.type === 'pkt') pf.regs[ptrReg] = { ...pf.regs[ptrReg]!, range: open ? AT_PKT_END : BEYOND_PKT_END };
  if (ptr.off < 0 || (ptr.off === 0 && open)) return;
  if (ptr.s.umax > BigInt(MAX_PACKET_OFF) || Number(ptr.s.umax) + ptr.off > MAX_PACKET_OFF) return;
  const newRange = ptr.off + (open ? 1 : 0);
  mapAllRegs(side, (r) => (r.type === ptr.type && r.id === ptr.id ? { ...r, range: Math.max(r.range, newRange) } : r));
}

/**
 * Which registers hold the program's context pointer, exactly, before each
 * instruction of the entry function: r1 does on entry, a register copied from
 * one that does does too, and anything else that writes a register (or a call,
 * which clobbers r0–r5) ends it. A forward data-flow pass over the basic
 * blocks, joining by intersection. The compiling engine reads `xdp_md` fields
 * directly where this says the base is the context — the rewrite the kernel's
 * verifier performs on context loads.
 */
import type { ExecProgram } from './exec-program.js';

/** Bit n set: rn holds the context pointer. Index = slot. */
export type CtxMasks = Int32Array;

const UNKNOWN = -1;

/** Registers (as a bit mask) the instruction at slot s writes; a call clobbers r0–r5. */
export function written(p: ExecProgram, s: number): number {
  const k = p.kinds[s]!;
  const d = 1 << p.dst[s]!;
  switch (k.k) {
    case 'alu': case 'end': case 'ldx': case 'lddw': return d;
    case 'atomic': return k.fetch ? (k.op === 'cmpxchg' ? 1 : 1 << p.src[s]!) : 0;
    case 'call': return 0b111111;
    default: return 0;
  }
}

export function ctxRegisterMasks(p: ExecProgram, start: number, end: number): CtxMasks {
  const inMask = new Int32Array(p.length).fill(UNKNOWN);
  inMask[start] = 1 << 1;
  const work = [start];
  const next = (s: number) => s + (p.kinds[s]?.k === 'lddw' ? 2 : 1);
  while (work.length > 0) {
    let s = work.pop()!;
    let mask = inMask[s]!;
    // Walk the straight line from s, pushing the state into successors.
    for (;;) {
      const k = p.kinds[s];
      if (k === undefined) break;
      let out = mask & ~written(p, s);
      if (k.k === 'alu' && k.width === 64 && k.op === 'mov' && k.useReg && ((mask >> p.src[s]!) & 1) === 1) out |= 1 << p.dst[s]!;
      const succ: number[] = [];
      if (k.k === 'ja') succ.push(s + (k.long ? p.imm[s]! : p.off[s]!) + 1);
      else if (k.k === 'jcond' || k.k === 'maygoto') succ.push(s + p.off[s]! + 1, next(s));
      else if (k.k !== 'exit') succ.push(next(s));
      let fallthrough = -1;
      for (const t of succ) {
        if (t < start || t >= end) continue;
        const before = inMask[t]!;
        const joined = before === UNKNOWN ? out : before & out;
        if (joined !== before) {
          inMask[t] = joined;
          if (t === next(s) && k.k !== 'jcond' && k.k !== 'maygoto') fallthrough = t;
          else work.push(t);
        }
      }
      if (fallthrough < 0) break;
      s = fallthrough;
      mask = inMask[s]!;
    }
  }
  return inMask;
}

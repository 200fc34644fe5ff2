/**
 * Which registers' high words are still to be read after each instruction: a
 * backward liveness analysis over the eBPF program's control flow, on the high
 * (upper 32-bit) halves only — what the kernel's verifier computes to decide which
 * 32-bit definitions need an explicit zero-extension on 32-bit JITs (the NFP's
 * among them: `insn_aux_data.zext_dst`, `opt_subreg_zext_lo32_rnd_hi32`). A 32-bit
 * operation or a narrow load whose destination's high word nobody reads before it is
 * written whole can leave that word as it is: the `zext` pass.
 *
 * Conservative by construction: every 64-bit operation reads both halves of what it
 * touches (even where narrow32 will skip the high word), helper and subprogram calls
 * read r1–r5 whole, a subprogram's exit reads r0 whole, and the program's own exit
 * reads r0's high word unless the caller says the result is a 32-bit action.
 */
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import type { InsnKind } from '../../../xdp/isa/kind.js';

interface Rec {
  readonly index: number;
  readonly insn: EbpfInsn;
  readonly kind: InsnKind;
}

const ARGS = 0b111110; // r1..r5
const bit = (r: number): number => 1 << r;

/** High halves read (`use`) and written whole (`def`) by one instruction, as register bit sets. */
function effect(r: Rec, isMainExit: boolean, u32Return: boolean): { use: number; def: number } {
  const { insn, kind: k } = r;
  const reg = (n: number) => (n <= 9 ? bit(n) : 0);
  switch (k.k) {
    case 'alu':
      if (k.width === 32) return { use: 0, def: reg(insn.dst) };
      if (k.op === 'mov' || k.op === 'movsx') return { use: k.useReg ? reg(insn.src) : 0, def: reg(insn.dst) };
      return { use: reg(insn.dst) | (k.useReg ? reg(insn.src) : 0), def: reg(insn.dst) };
    case 'end': return k.bits === 64 ? { use: reg(insn.dst), def: reg(insn.dst) } : { use: 0, def: reg(insn.dst) };
    case 'lddw': return { use: 0, def: reg(insn.dst) };
    case 'ldx': return { use: 0, def: reg(insn.dst) };
    case 'stx': return { use: k.size === 8 ? reg(insn.src) : 0, def: 0 };
    case 'atomic': return { use: k.size === 8 ? reg(insn.src) | (k.op === 'cmpxchg' ? bit(0) : 0) : 0, def: k.fetch ? reg(k.op === 'cmpxchg' ? 0 : insn.src) : 0 };
    case 'jcond': return { use: k.width === 64 ? reg(insn.dst) | (k.useReg ? reg(insn.src) : 0) : 0, def: 0 };
    case 'call': return { use: ARGS, def: bit(0) | ARGS };
    case 'exit': return { use: isMainExit && u32Return ? 0 : bit(0), def: 0 };
    default: return { use: 0, def: 0 };
  }
}

/** Per eBPF index: the registers whose high word may be read after the instruction (a bit set over r0–r9). */
export function highLiveOut(records: readonly Rec[], mainEnd: number, u32Return: boolean): Map<number, number> {
  const pos = new Map(records.map((r, i) => [r.index, i]));
  const succ: number[][] = records.map((r, i) => {
    const next = records[i + 1] ? [i + 1] : [];
    const k = r.kind;
    if (k.k === 'exit') return [];
    if (k.k === 'ja') return [pos.get(r.index + (k.long ? r.insn.imm : r.insn.off) + 1)].filter((p): p is number => p !== undefined);
    if (k.k === 'jcond') return [...next, pos.get(r.index + r.insn.off + 1)].filter((p): p is number => p !== undefined);
    return next;
  });
  const eff = records.map((r) => effect(r, r.index < mainEnd, u32Return));
  const liveIn = new Int32Array(records.length);
  const liveOut = new Int32Array(records.length);
  for (let changed = true; changed;) {
    changed = false;
    for (let i = records.length - 1; i >= 0; i--) {
      let out = 0;
      for (const s of succ[i]!) out |= liveIn[s]!;
      const inn = eff[i]!.use | (out & ~eff[i]!.def);
      if (out !== liveOut[i] || inn !== liveIn[i]) {
        liveOut[i] = out;
        liveIn[i] = inn;
        changed = true;
      }
    }
  }
  return new Map(records.map((r, i) => [r.index, liveOut[i]!]));
}

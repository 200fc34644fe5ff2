/**
 * Which registers' high words are still to be read after each instruction: a
 * backward liveness analysis over the eBPF program's control flow, on the high
 * (upper 32-bit) halves only — what the kernel's verifier computes to decide which
 * 32-bit definitions need an explicit zero-extension on 32-bit JITs (the NFP's
 * among them: `insn_aux_data.zext_dst`, `opt_subreg_zext_lo32_rnd_hi32`). A 32-bit
 * operation or a narrow load whose destination's high word nobody reads before it is
 * written whole can leave that word as it is; a 64-bit move, add, subtract, logic,
 * multiply, left shift or negation whose result's high word nobody reads computes the
 * low word alone (its low word needs only the operands' low words): the `zext` pass.
 *
 * Conservative by construction: every 64-bit operation reads both halves of what it
 * touches, except those narrow32 lowers to their low words (the same decision, made
 * here from the same facts): their high words pass through; helper and subprogram calls
 * read r1–r5 whole, a subprogram's exit reads r0 whole, and the program's own exit
 * reads r0's high word unless the caller says the result is a 32-bit action.
 */
import { HelperId } from '../../../xdp/helpers/helper-ids.js';
import type { PlanRecord } from './jit-records.js';
import { solveLiveness, type Effect, type Liveness } from './liveness.js';
import { narrowAlu, narrowCompare, negAddSub } from './passes.js';

type Rec = PlanRecord;

const ARGS = 0b111110; // r1..r5
const bit = (r: number): number => 1 << r;

/** Does narrow32 leave this 64-bit ALU instruction's (or compare's) high words alone? (The lowerings decide the same.) */
function narrowed(r: Rec, passes: ReadonlySet<string>): boolean {
  const k = r.kind;
  if (!passes.has('narrow32') || r.reads === undefined) return false;
  const s = k.k === 'alu' || k.k === 'jcond' ? (k.useReg ? { reg: r.insn.src } : { imm: r.insn.imm }) : undefined;
  if (k.k === 'jcond') return k.width === 64 && narrowCompare(r.reads, k.op, r.insn.dst, s!);
  if (k.k !== 'alu' || k.width !== 64 || !s) return false;
  const flipped = !k.useReg && passes.has('neg-add-sub') ? negAddSub(k.op, r.insn.imm) : undefined;
  return narrowAlu(r.reads, flipped?.op ?? k.op, r.insn.dst, flipped ? { imm: flipped.imm } : s);
}

/**
 * The helper arguments whose high words the card's lowering reads (nfp/lower-call.ts, the firmware
 * routines): perf_event_output's flags (r3: the sample's packet bytes); the map helpers, prandom and
 * adjust_head/tail read low words only. Any other helper: r1–r5 whole.
 */
function helperHighArgs(id: number): number {
  switch (id) {
    case HelperId.MAP_LOOKUP_ELEM: case HelperId.MAP_UPDATE_ELEM: case HelperId.MAP_DELETE_ELEM:
    case HelperId.GET_PRANDOM_U32: case HelperId.XDP_ADJUST_HEAD: case HelperId.XDP_ADJUST_TAIL:
      return 0;
    case HelperId.PERF_EVENT_OUTPUT: return bit(3);
    default: return ARGS;
  }
}

/**
 * 64-bit operations whose low result word depends on the low words alone: when nothing reads the
 * result's high word, only the low-word instruction is emitted, and the operands' high words are not read.
 */
export const LOW_ONLY_OPS: ReadonlySet<string> = new Set(['mov', 'add', 'sub', 'and', 'or', 'xor', 'mul', 'lsh', 'neg']);

/**
 * High halves read (`use`) and written whole (`def`) by one instruction, as register bit sets;
 * `useIfLive`: read only when the instruction's own result high word is live after it.
 */
function effect(r: Rec, isMainExit: boolean, u32Return: boolean, passes: ReadonlySet<string>): Effect {
  const { insn, kind: k } = r;
  const reg = (n: number) => (n <= 9 ? bit(n) : 0);
  // A narrowed operation reads and writes only low words: the high word passes through it.
  if (narrowed(r, passes)) return { use: 0, def: 0 };
  switch (k.k) {
    case 'alu':
      if (k.width === 32) return { use: 0, def: reg(insn.dst) };
      if (k.op === 'movsx') return { use: k.useReg ? reg(insn.src) : 0, def: reg(insn.dst) };
      if (k.op === 'mov') return { use: 0, useIfLive: k.useReg ? reg(insn.src) : 0, def: reg(insn.dst) };
      if (passes.has('zext') && LOW_ONLY_OPS.has(k.op)) {
        return { use: 0, useIfLive: reg(insn.dst) | (k.useReg ? reg(insn.src) : 0), def: reg(insn.dst) };
      }
      return { use: reg(insn.dst) | (k.useReg ? reg(insn.src) : 0), def: reg(insn.dst) };
    case 'end': return k.bits === 64 ? { use: reg(insn.dst), def: reg(insn.dst) } : { use: 0, def: reg(insn.dst) };
    case 'lddw': return { use: 0, def: reg(insn.dst) };
    case 'ldx': return { use: 0, def: reg(insn.dst) };
    case 'stx': return { use: k.size === 8 ? reg(insn.src) : 0, def: 0 };
    case 'atomic': return { use: k.size === 8 ? reg(insn.src) | (k.op === 'cmpxchg' ? bit(0) : 0) : 0, def: k.fetch ? reg(k.op === 'cmpxchg' ? 0 : insn.src) : 0 };
    case 'jcond': return { use: k.width === 64 ? reg(insn.dst) | (k.useReg ? reg(insn.src) : 0) : 0, def: 0 };
    case 'call': return { use: k.target === 'helper' ? helperHighArgs(insn.imm) : ARGS, def: bit(0) | ARGS };
    case 'exit': return { use: isMainExit && u32Return ? 0 : bit(0), def: 0 };
    default: return { use: 0, def: 0 };
  }
}

/** High-word liveness: per eBPF index, registers (bit n = rn) whose high word may be read at (liveIn) or after (liveOut) the instruction. */
export type HighLiveness = Liveness;

/** High-word liveness of a program (`mainEnd`: index of its first subprogram). */
export function highLiveness(records: readonly Rec[], mainEnd: number, u32Return: boolean, passes: ReadonlySet<string>): HighLiveness {
  return solveLiveness(records, records.map((r) => effect(r, r.index < mainEnd, u32Return, passes)));
}

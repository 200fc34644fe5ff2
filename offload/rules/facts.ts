/**
 * What the offload rules need to know of a program, gathered during
 * verification from every state the verifier walks (as the Linux NFP driver
 * gathers it in its verifier hook, nfp_verify_insn, into per-instruction
 * metadata): the pointer types each load and store sees, the operands of
 * multiplications and divisions, helper arguments, return codes, packet
 * offsets, and stack use per call chain.
 */
import type { Insn } from '../../xdp/isa/insn.js';
import { kindOf, type InsnKind } from '../../xdp/isa/kind.js';
import type { MapDef, Program } from '../../xdp/object/bpf-object.js';
import { constReg, type RegState } from '../verifier/reg-state.js';
import type { VerifierState } from '../verifier/state.js';
import { verifyProgram, type VerifyOptions, type VerifyResult } from '../verifier/verifier.js';

/** At most this many distinct states are kept per instruction (enough to show a rule broken). */
const KEEP = 8;

/** Distinct register states seen at one instruction, in the order first seen. */
export class Seen {
  private readonly keys = new Set<string>();
  /** Register states are shared by the copies of a path's state: most repeats are the same object. */
  private readonly objects = new Set<RegState>();
  readonly states: RegState[] = [];
  add(r: RegState): void {
    if (this.states.length >= KEEP || this.objects.has(r)) return;
    this.objects.add(r);
    const key = `${r.type}/${r.off}/${r.map}/${r.frame}/${r.s.umin}/${r.s.umax}/${r.s.smin}/${r.s.smax}/${r.s.var.value}/${r.s.var.mask}`;
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.states.push(r);
  }
}

export interface ProgramFacts {
  /** Slot → instruction and kind, for every instruction the verifier reached. */
  readonly reached: Map<number, { insn: Insn; kind: InsnKind }>;
  /** Slot → base register of a load, store or atomic. */
  readonly base: Map<number, Seen>;
  /** Slot → the two operands (dst, src; src a constant for immediates) of mul/div/mod. */
  readonly operands: Map<number, [Seen, Seen]>;
  /** Slot of a helper call → r1..r5 (index 0..4). */
  readonly args: Map<number, Seen[]>;
  /** Slot of an exit from the program (not a subprogram) → r0. */
  readonly exits: Map<number, Seen>;
  /** Deepest stack use of each function (index into Program.funcs) on any path, in bytes. */
  readonly funcDepth: Map<number, number>;
  /** Call chains seen (function indexes, outermost first), as "0>2>3". */
  readonly chains: Set<string>;
  /** Indexes (into the verifier's map list) of every map the program refers to. */
  readonly maps: Set<number>;
}

function newFacts(): ProgramFacts {
  return {
    reached: new Map(), base: new Map(), operands: new Map(), args: new Map(), exits: new Map(),
    funcDepth: new Map(), chains: new Set(), maps: new Set(),
  };
}

function seenAt<K>(m: Map<K, Seen>, k: K): Seen {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Seen()));
  return s;
}


/** Verify `program` and collect its facts from every state walked. */
export function collectFacts(
  program: Program, maps: readonly MapDef[], opts: Omit<VerifyOptions, 'observe'> = {},
): { result: VerifyResult; facts: ProgramFacts } {
  const facts = newFacts();
  const funcStarts = program.funcs.map((f) => f.slot).sort((a, b) => a - b);
  const last = program.insns.length - 1;
  const slots = last < 0 ? 0 : program.slots[last]! + (program.insns[last]!.next ? 2 : 1);
  const funcIndex = new Int32Array(slots);
  funcStarts.forEach((start, i) => funcIndex.fill(i, start));
  const funcOf = (slot: number): number => funcIndex[slot]!;
  const insnAt = new Map<number, Insn>(program.insns.map((insn, i) => [program.slots[i]!, insn]));
  const observe = (slot: number, st: VerifierState): void => {
    let reached = facts.reached.get(slot);
    if (!reached) {
      const insn = insnAt.get(slot)!;
      facts.reached.set(slot, (reached = { insn, kind: kindOf(insn) }));
    }
    const { insn, kind: k } = reached;
    const f = st.frames[st.frames.length - 1]!;
    const regs = f.regs;
    switch (k.k) {
      case 'ldx': seenAt(facts.base, slot).add(regs[insn.src]!); break;
      case 'st': case 'stx': case 'atomic': seenAt(facts.base, slot).add(regs[insn.dst]!); break;
      case 'alu':
        if (k.op === 'mul' || k.op === 'div' || k.op === 'mod' || k.op === 'sdiv' || k.op === 'smod') {
          let pair = facts.operands.get(slot);
          if (!pair) facts.operands.set(slot, (pair = [new Seen(), new Seen()]));
          pair[0].add(regs[insn.dst]!);
          pair[1].add(k.useReg ? regs[insn.src]! : constReg(BigInt(insn.imm)));
        }
        break;
      case 'call':
        if (k.target === 'helper') {
          let a = facts.args.get(slot);
          if (!a) facts.args.set(slot, (a = [0, 1, 2, 3, 4].map(() => new Seen())));
          for (let r = 1; r <= 5; r++) a[r - 1]!.add(regs[r]!);
        }
        break;
      case 'exit':
        if (st.frames.length === 1) seenAt(facts.exits, slot).add(regs[0]!);
        break;
      case 'lddw':
        if (insn.src !== 0) facts.maps.add(insn.imm);
        break;
      default:
        break;
    }
    // Stack use: each frame's function and depth, and the chain of functions.
    let chain = '';
    st.frames.forEach((fr, i) => {
      const fn = i === st.frames.length - 1 ? funcOf(slot) : funcOf(st.frames[i + 1]!.callsite - 1);
      chain = i === 0 ? String(fn) : `${chain}>${fn}`;
      if (fr.stackDepth > (facts.funcDepth.get(fn) ?? -1)) facts.funcDepth.set(fn, fr.stackDepth);
    });
    facts.chains.add(chain);
  };
  const result = verifyProgram(program, maps, { ...opts, observe });
  return { result, facts };
}

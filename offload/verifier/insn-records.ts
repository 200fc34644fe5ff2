/**
 * One record per instruction of a verified program — what the Linux NFP driver
 * keeps in `struct nfp_insn_meta` (filled by its verifier hook, nfp_verify_insn)
 * and cilium/ebpf keeps as instruction metadata: the instruction, where it is
 * (its index, its function, its C line), and what the verifier knew of the
 * registers it reads, joined over every path that reached it.
 *
 * "Instruction index" means one thing in this project's output: the kernel's,
 * counting 8-byte slots (an lddw takes two), as in the verifier's log, `check`'s
 * reasons and the JIT's source map. `pos` is the position in Program.insns.
 *
 * The join is over the states the verifier walked. A path it cut short (pruned)
 * was covered by an explored state for what safety needs, but not necessarily
 * for the values of scalars it did not need precisely; records that a
 * translator may rely on come from a walk with every scalar precise
 * (`preciseScalars`), where a cut path is covered values and all.
 */
import type { Insn } from '../../xdp/isa/insn.js';
import { kindOf, type InsnKind } from '../../xdp/isa/kind.js';
import type { MapDef, Program, SourcePosition } from '../../xdp/object/bpf-object.js';
import { constReg, type RegState, type RegType } from './reg-state.js';
import type { VerifierState } from './state.js';
import { U32_MAX } from './scalar.js';
import { verifyProgram, type VerifyOptions, type VerifyResult } from './verifier.js';
import { regsRead } from './insn-regs.js';

/** At most this many distinct states of a register are kept per instruction (enough to show a rule broken). */
const KEEP = 8;

/** Distinct register states seen at one instruction, in the order first seen (at most KEEP). */
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

/** What is known of one register an instruction reads, over every path that reached it. */
export interface RegFacts {
  /** Every type it had. */
  readonly types: ReadonlySet<RegType>;
  /** Where it was a scalar on every path: the union of its ranges (unsigned and signed). */
  readonly umin?: bigint;
  readonly umax?: bigint;
  readonly smin?: bigint;
  readonly smax?: bigint;
  /** The same constant on every path. */
  readonly constant?: bigint;
  /** A scalar whose upper 32 bits are zero on every path. */
  readonly upper32Zero: boolean;
  /** Pointers: the fixed offsets seen (min and max). */
  readonly offMin?: number;
  readonly offMax?: number;
  /** Packet pointers: the smallest range proven on any path (bytes from the pointer's base). */
  readonly packetRange?: number;
  /** Map pointers and map values: the maps (indexes into the verifier's map list). */
  readonly maps: ReadonlySet<number>;
  /** Up to 8 distinct states, for messages that show one. */
  readonly seen: Seen;
}

export interface InsnRecord {
  /** The kernel's instruction index (slot). */
  readonly index: number;
  /** Position in Program.insns. */
  readonly pos: number;
  readonly insn: Insn;
  readonly kind: InsnKind;
  /** Index into Program.funcs of the function it belongs to. */
  readonly func: number;
  /** Its C source line, where BTF line info has one. */
  readonly line?: SourcePosition;
  /** Times the verifier walked it (0: never reached, dead code). */
  readonly visits: number;
  /** Facts of each register the instruction reads (index = register number). */
  readonly reads: readonly (RegFacts | undefined)[];
  /** An exit reached with one frame: the program's own return (r0 is its action), not a subprogram's. */
  readonly programExit: boolean;
}

export interface ProgramRecords {
  /** One per instruction, in program order. */
  readonly records: readonly InsnRecord[];
  /** The record at a kernel instruction index, if an instruction starts there. */
  at(index: number): InsnRecord | undefined;
  /** Deepest stack use of each function (index into Program.funcs) on any path, in bytes. */
  readonly funcDepth: ReadonlyMap<number, number>;
  /** Call chains seen (function indexes, outermost first), as "0>2>3". */
  readonly chains: ReadonlySet<string>;
  /** Indexes (into the verifier's map list) of every map the program refers to. */
  readonly maps: ReadonlySet<number>;
}

interface MutableFacts {
  types: Set<RegType>;
  scalarOnly: boolean;
  umin: bigint; umax: bigint; smin: bigint; smax: bigint;
  offMin: number; offMax: number;
  packetRange: number;
  maps: Set<number>;
  seen: Seen;
  last: RegState | undefined;
}

function newFacts(): MutableFacts {
  return {
    types: new Set(), scalarOnly: true, umin: 0n, umax: 0n, smin: 0n, smax: 0n,
    offMin: Infinity, offMax: -Infinity, packetRange: Infinity, maps: new Set(), seen: new Seen(), last: undefined,
  };
}

function join(f: MutableFacts, r: RegState): void {
  if (f.last === r) return;
  const first = f.types.size === 0;
  f.last = r;
  f.types.add(r.type);
  f.seen.add(r);
  if (r.type === 'scalar') {
    const s = r.s;
    if (first) {
      f.umin = s.umin; f.umax = s.umax; f.smin = s.smin; f.smax = s.smax;
    } else {
      if (s.umin < f.umin) f.umin = s.umin;
      if (s.umax > f.umax) f.umax = s.umax;
      if (s.smin < f.smin) f.smin = s.smin;
      if (s.smax > f.smax) f.smax = s.smax;
    }
    return;
  }
  f.scalarOnly = false;
  if (r.off < f.offMin) f.offMin = r.off;
  if (r.off > f.offMax) f.offMax = r.off;
  if ((r.type === 'pkt' || r.type === 'pkt_meta') && r.range < f.packetRange) f.packetRange = r.range;
  if (r.type === 'map_ptr' || r.type === 'map_value' || r.type === 'map_value_or_null') f.maps.add(r.map);
}

function freeze(f: MutableFacts): RegFacts {
  const scalar = f.scalarOnly && f.types.size > 0;
  return {
    types: f.types,
    ...(scalar ? { umin: f.umin, umax: f.umax, smin: f.smin, smax: f.smax } : {}),
    ...(scalar && f.umin === f.umax ? { constant: f.umin } : {}),
    upper32Zero: scalar && f.umax <= BigInt(U32_MAX),
    ...(f.offMin !== Infinity ? { offMin: f.offMin, offMax: f.offMax } : {}),
    ...(f.packetRange !== Infinity ? { packetRange: f.packetRange } : {}),
    maps: f.maps,
    seen: f.seen,
  };
}

/**
 * Verify `program` and build its instruction records from every state walked. `preciseScalars`
 * (VerifyOptions) makes the joined scalar facts hold on every path.
 */
export function buildRecords(
  program: Program, maps: readonly MapDef[], opts: Omit<VerifyOptions, 'observe'> = {},
): { result: VerifyResult; records: ProgramRecords } {
  const n = program.insns.length;
  const last = n - 1;
  const slots = last < 0 ? 0 : program.slots[last]! + (program.insns[last]!.next ? 2 : 1);
  const posAt = new Int32Array(slots).fill(-1);
  program.slots.forEach((slot, pos) => (posAt[slot] = pos));
  const funcStarts = program.funcs.map((f) => f.slot).sort((a, b) => a - b);
  const funcIndex = new Int32Array(slots);
  funcStarts.forEach((start, i) => funcIndex.fill(i, start));
  const kinds = program.insns.map(kindOf);
  const reads = program.insns.map((insn, pos) => regsRead(insn, kinds[pos]!));
  const visits = new Int32Array(n);
  const facts: (MutableFacts | undefined)[][] = program.insns.map(() => []);
  const programExit = new Uint8Array(n);
  const funcDepth = new Map<number, number>();
  const chains = new Set<string>();
  const mapsUsed = new Set<number>();

  const observe = (slot: number, st: VerifierState): void => {
    const pos = posAt[slot]!;
    visits[pos]!++;
    const frame = st.frames[st.frames.length - 1]!;
    const regs = frame.regs;
    const insn = program.insns[pos]!;
    const kind = kinds[pos]!;
    const perReg = facts[pos]!;
    for (const r of reads[pos]!) join((perReg[r] ??= newFacts()), regs[r]!);
    // An immediate operand is a register that always holds it: one more fact for rules that compare operands.
    if ((kind.k === 'alu' || kind.k === 'jcond') && !kind.useReg && perReg[11] === undefined) join((perReg[11] = newFacts()), constReg(BigInt(insn.imm)));
    if (kind.k === 'exit' && st.frames.length === 1) programExit[pos] = 1;
    if (kind.k === 'lddw' && insn.src !== 0) mapsUsed.add(insn.imm);
    // Stack use: each frame's function and depth, and the chain of functions.
    let chain = '';
    st.frames.forEach((fr, i) => {
      const fn = i === st.frames.length - 1 ? funcIndex[slot]! : funcIndex[st.frames[i + 1]!.callsite - 1]!;
      chain = i === 0 ? String(fn) : `${chain}>${fn}`;
      if (fr.stackDepth > (funcDepth.get(fn) ?? -1)) funcDepth.set(fn, fr.stackDepth);
    });
    chains.add(chain);
  };
  const result = verifyProgram(program, maps, { ...opts, observe });

  const records: InsnRecord[] = program.insns.map((insn, pos) => ({
    index: program.slots[pos]!,
    pos,
    insn,
    kind: kinds[pos]!,
    func: funcIndex[program.slots[pos]!]!,
    ...(program.lines[pos] ? { line: program.lines[pos] } : {}),
    visits: visits[pos]!,
    reads: facts[pos]!.map((f) => (f ? freeze(f) : undefined)),
    programExit: programExit[pos] === 1,
  }));
  return {
    result,
    records: {
      records,
      at: (index) => {
        const pos = index >= 0 && index < slots ? posAt[index]! : -1;
        return pos >= 0 ? records[pos] : undefined;
      },
      funcDepth, chains, maps: mapsUsed,
    },
  };
}

/** The immediate operand of an ALU or jump instruction, as a register fact (index 11 of `reads`). */
export const IMM = 11;

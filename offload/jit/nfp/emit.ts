/**
 * The emitter the lowerings share (the kernel's `emit_alu`, `emit_shf`, `wrp_immed`,
 * `emit_br` in jit.c): a context value that collects card instructions, the source
 * map (the eBPF instruction index each came from) and the branch relocations the
 * translator resolves once every address is known. Nothing here is module state:
 * each translation creates its own context.
 *
 * Operand placement follows the assembler's rule (docs/nic-isa.md "Operand
 * placement"): the logical left operand goes in the A field and the right one in B,
 * swapped (SW) when the left is a bank-B GPR or the right a bank-A GPR.
 */
import type { AluInsn, AluShfInsn, BrInsn, Insn } from '../../../nic-sim/isa/instructions.js';
import { gprA, gprB, imm, type Bank, type Dst, type Gpr, type GprDst, type Src } from '../../../nic-sim/isa/operands.js';
import type { AluOp, BrCond, ShfOp, ShiftClass } from '../../../nic-sim/isa/tables.js';
import { JitError } from '../errors.js';
import { IMM_GPR, MAX_MAPPED_REG, gprOf, type Word } from './regs.js';
import { STACK_TOP } from '../../../nic-sim/card/entry-state.js';

/** Source-map entry of shared code (the outro and the prefetch pad): no eBPF instruction. */
export const NO_SOURCE = -1;

/** Labels of the shared code the outro defines. */
export type OutroLabel = 'outro' | 'abort' | 'end';

/**
 * Where a branch goes: an eBPF instruction (by kernel index), a label of the shared
 * code, or a card address inside the current instruction's own code (`local`: set
 * once that place is emitted, see `forwardBranch`).
 */
export type BranchTarget =
  | { readonly k: 'insn'; readonly index: number }
  | { readonly k: 'label'; readonly name: OutroLabel }
  | { readonly k: 'local'; addr: number };

export interface Reloc {
  /** Card address of the branch. */
  readonly at: number;
  /** The eBPF instruction that emitted it (for errors). */
  readonly from: number;
  readonly target: BranchTarget;
}

/**
 * What the image's loader patches (docs/nic-image.md "Relocations"): the kind, the card
 * address of the instruction, and the target — an image address (branch, immed-addr),
 * a helper id (helper), or an index into the object's maps (map-id, map-value-*,
 * whose `offset` is added to the value's address).
 */
export type CardRelocKind = 'branch' | 'helper' | 'immed-addr' | 'map-id' | 'map-value-lo' | 'map-value-hi';
export interface CardReloc {
  readonly at: number;
  readonly kind: CardRelocKind;
  readonly target: number;
  readonly offset: number;
}

/** What the translator knows of a register an instruction reads (offload/verifier/insn-records.ts `RegFacts` has it). */
export interface JitRegFacts {
  /** The verifier's types of the register on every path that reached the instruction. */
  readonly types: ReadonlySet<string>;
  /** Pointers: the fixed offsets seen (a stack pointer's offset from r10). */
  readonly offMin?: number;
  readonly offMax?: number;
  /** Scalars: the unsigned range over every path. */
  readonly umin?: bigint;
  readonly umax?: bigint;
  /** The same constant on every path. */
  readonly constant?: bigint;
}

/** Where memory goes when the instruction records carry no types (programs that were not verified as XDP). */
export type UntypedMemory = 'refuse' | 'ctm';

export interface EmitOptions {
  /** Loads and stores through a register of no known type: refused, or taken as packet (CTM) accesses. */
  readonly untypedMemory: UntypedMemory;
  /** The caps' adjust_head window: the packet's first byte must stay at a CTM address in [offMin, offMax]. */
  readonly adjustHead?: { readonly offMin: number; readonly offMax: number };
  /** Whether the image uses the stack (the prologue points LM pointer 1 at its top window; calls restore it). */
  readonly usesStack: boolean;
  /** Whether the program has subprograms (then stack pointers in registers are reached at run time, nfp/functions.ts). */
  readonly hasCalls: boolean;
  /** The optimisations that are on (nfp/passes.ts). */
  readonly passes: ReadonlySet<string>;
  /** Every program exit returns a constant the verifier knows: exits set the action code themselves (const-exit). */
  readonly constExit?: boolean;
}

export interface EmitCtx {
  readonly out: Insn[];
  /** Parallel to `out`: the eBPF instruction index, or NO_SOURCE. */
  readonly sourceMap: number[];
  readonly relocs: Reloc[];
  /** Helper, return-address and map relocations (branches are added when they are resolved). */
  readonly cardRelocs: CardReloc[];
  readonly labels: Map<OutroLabel, number>;
  readonly opts: EmitOptions;
  /** The eBPF instruction being lowered (NO_SOURCE while emitting shared code). */
  index: number;
  /** The verifier's facts of the registers the current instruction reads, when the records carry them. */
  reads: readonly (JitRegFacts | undefined)[] | undefined;
  /** LM address of the current function's r10 (512 in the main program, nfp/functions.ts). */
  frameTop: number;
  /** Registers (bit n = rn) whose high word may be read after the current instruction (nfp/high-liveness.ts). */
  hiLive: number;
  /** fuse-mov: the register a fused ALU operation reads instead of its destination (the left-out move's source). */
  fuseLeft: number | undefined;
  /** Firmware calls whose map the call loads itself, by eBPF index: the map's index (nfp/const-src.ts `knownTables`). */
  tables: ReadonlyMap<number, number>;
  /** Packet loads served by the packet-read cache, by eBPF index (nfp/pkt-cache.ts). */
  cache: ReadonlyMap<number, { readonly first: boolean; readonly start: number; readonly words: number; readonly at: number }>;
}

export const DEFAULT_EMIT_OPTIONS: EmitOptions = { untypedMemory: 'refuse', usesStack: false, hasCalls: false, passes: new Set() };

/** LM address of the main program's r10 (MAX_BPF_STACK: the stack is LM 0 … 511). */
export const MAIN_FRAME_TOP = STACK_TOP;

export const createEmitCtx = (opts: EmitOptions = DEFAULT_EMIT_OPTIONS): EmitCtx => ({
  out: [], sourceMap: [], relocs: [], cardRelocs: [], labels: new Map(), opts, index: NO_SOURCE, reads: undefined, frameTop: MAIN_FRAME_TOP, hiLive: ~0, cache: new Map(), tables: new Map(), fuseLeft: undefined,
});

/**
 * `immed[hi, 0]` after a 32-bit definition of eBPF register `d` — left out (the zext pass) when
 * nothing reads d's high word before it is written whole, or (`alreadyZero`) when the caller knows
 * the register's high word is physically 0 already: its instruction reads that word, so high-word
 * liveness made every producer write it, and the verifier proves it zero.
 */
export function zeroHigh(ctx: EmitCtx, d: number, alreadyZero = false): void {
  if (ctx.opts.passes.has('zext') && (alreadyZero || (ctx.hiLive & (1 << d)) === 0)) return;
  loadImm32(ctx, { k: 'gpr', bank: 'ab', n: 2 * d + 1 }, 0);
}

/** Record a relocation of the instruction about to be emitted. */
export function relocNext(ctx: EmitCtx, kind: CardRelocKind, target: number, offset = 0): void {
  ctx.cardRelocs.push({ at: ctx.out.length, kind, target, offset });
}

/** A table entry for what is not lowered: the reason the translator gives. */
export interface Refusal {
  readonly refuse: string;
}
export const refuse = (why: string): Refusal => ({ refuse: why });

export const unsupported = (ctx: EmitCtx, why: string): JitError => new JitError('unsupported', ctx.index, why);

export function emit(ctx: EmitCtx, insn: Insn): void {
  ctx.out.push(insn);
  ctx.sourceMap.push(ctx.index);
}

/** The left operand an operation does not read ("--"): GPR 0 of the A field. */
export const NONE_SRC: Gpr = gprA(0);

/** `alu[dst, --, B, src]`: a move, its unused left operand in the other bank than `src`. */
export function move(ctx: EmitCtx, dst: Dst, src: Src): void {
  alu(ctx, dst, src.k === 'gpr' && src.bank === 'a' ? gprB(0) : NONE_SRC, 'none', src);
}

/** The fields of logical operands (l, r): A, B and the swap bit. */
export function place(l: Src, r: Src): { a: Src; b: Src; swap: boolean } {
  const swap = (l.k === 'gpr' && l.bank === 'b') || (r.k === 'gpr' && r.bank === 'a');
  return swap ? { a: r, b: l, swap } : { a: l, b: r, swap };
}

/** `alu[dst, l, op, r]`. */
export function alu(ctx: EmitCtx, dst: Dst, l: Src, op: AluOp, r: Src): void {
  const insn: AluInsn = { cls: 'alu', op, dst, ...place(l, r) };
  emit(ctx, insn);
}

/** `alu_shf[dst, l, op, r, shift]` (restricted operands: GPRs here). */
export function shf(ctx: EmitCtx, dst: Dst, l: Src, op: ShfOp, r: Src, sc: ShiftClass, shift: number | 'indirect'): void {
  const insn: AluShfInsn = { cls: 'alu_shf', op, dst, sc, shift, ...place(l, r) };
  emit(ctx, insn);
}

/** The value, as a 16-bit field and a byte shift, if `v` is such a value shifted (the `immed` fast path). */
function immed16(v: number): { value: number; shift: number } | undefined {
  for (const shift of [0, 1, 2]) {
    const value = v >>> (8 * shift);
    if (value <= 0xffff && ((value << (8 * shift)) >>> 0) === v) return { value, shift };
  }
  return undefined;
}

/**
 * Load a 32-bit constant into a destination (the kernel's `wrp_immed`): one `immed`
 * when the value, or its inverse, is a 16-bit value at some byte shift; else
 * `immed` of the low half then `immed_w` of the high half.
 */
export function loadImm32(ctx: EmitCtx, dst: GprDst | Dst, v: number): void {
  const u = v >>> 0;
  const direct = immed16(u);
  if (direct) return emit(ctx, { cls: 'immed', dst, width: 'all', invert: false, ...direct });
  const inverse = immed16(~u >>> 0);
  if (inverse) return emit(ctx, { cls: 'immed', dst, width: 'all', invert: true, ...inverse });
  emit(ctx, { cls: 'immed', dst, value: u & 0xffff, width: 'all', invert: false, shift: 0 });
  emit(ctx, { cls: 'immed', dst, value: u >>> 16, width: 'word', invert: false, shift: 2 });
}

/** Largest immediate an unrestricted operand field holds (UR_REG_IMM_MAX). */
export const UR_IMM_MAX = 0xff;

/**
 * A 32-bit constant as an ALU operand in the given bank: the immediate itself when
 * it fits the field, else the immediate scratch register of that bank, loaded now
 * (the kernel's `ur_load_imm_any`). Call it right before the instruction that reads it.
 */
export function immOperand(ctx: EmitCtx, v: number, bank: Bank): Src {
  const u = v >>> 0;
  if (u <= UR_IMM_MAX) return imm(u);
  const scratch = bank === 'a' ? gprA(IMM_GPR) : gprB(IMM_GPR);
  loadImm32(ctx, { k: 'gpr', bank, n: IMM_GPR }, u);
  return scratch;
}

/** A branch whose target the translator fills in (the kernel's `emit_br` + relocation). */
export function branch(ctx: EmitCtx, cond: BrCond, target: BranchTarget): void {
  ctx.relocs.push({ at: ctx.out.length, from: ctx.index, target });
  const insn: BrInsn = { cls: 'br', cond, target: 0, defer: 0 };
  emit(ctx, insn);
}

/**
 * A forward branch to a place later in the current instruction's own code (the
 * kernel's local labels in its multi-block sequences): returns `land`, to call where
 * the branch should arrive.
 */
export function forwardBranch(ctx: EmitCtx, cond: BrCond): () => void {
  const target: BranchTarget & { k: 'local' } = { k: 'local', addr: -1 };
  branch(ctx, cond, target);
  return () => {
    target.addr = ctx.out.length;
  };
}

/** Check that an eBPF register is one the JIT keeps in GPRs (r0–r9; r10 is no register). */
export function mappedReg(ctx: EmitCtx, reg: number): number {
  if (reg === 10) {
    throw unsupported(ctx, 'r10 (the frame pointer) is lowered only as the base of a stack load or store or in mov64 (a stack pointer); other uses are not');
  }
  if (reg < 0 || reg > MAX_MAPPED_REG) throw unsupported(ctx, `register r${reg} does not exist`);
  return reg;
}

/** The second operand of an eBPF ALU or jump instruction: a register, or imm sign-extended to 64 bits. */
export type Source = { readonly k: 'reg'; readonly reg: number } | { readonly k: 'imm'; readonly lo: number; readonly hi: number };

export function sourceOf(ctx: EmitCtx, insn: { readonly src: number; readonly imm: number }, useReg: boolean): Source {
  if (useReg) return { k: 'reg', reg: mappedReg(ctx, insn.src) };
  return { k: 'imm', lo: insn.imm >>> 0, hi: insn.imm < 0 ? 0xffffffff : 0 };
}

/** One word of a source as an operand read from `bank` (an immediate may load the scratch register first). */
export function sourceWord(ctx: EmitCtx, s: Source, w: Word, bank: Bank): Src {
  if (s.k === 'reg') return { k: 'gpr', bank, n: gprOf(s.reg, w) };
  return immOperand(ctx, w === 0 ? s.lo : s.hi, bank);
}

/**
 * The JIT's driver for the NFP-shaped card (the kernel's `nfp_translate` and
 * `nfp_bpf_relo_for_vnic` in drivers/net/ethernet/netronome/nfp/bpf/jit.c): run the
 * lowering table over the instruction records in order, emit the shared outro and
 * the prefetch pad, then resolve every branch — an eBPF instruction index becomes
 * the card address where that instruction's code starts, a label an address in the
 * outro, a local target (a block inside one instruction's code) its own address.
 *
 * Before emission the records are rewritten where passes replace or remove whole
 * instructions (nfp/planned.ts: const-src, ld-combine, st-combine, dead-def), and the
 * plans the other passes need are made from them (nfp/passes.ts: skipped instructions,
 * high-word liveness, packet-read windows, gathered copies, the function frames of
 * nfp/functions.ts); after emission nfp/compact.ts removes what the code does not need.
 * What the table cannot
 * lower is refused with a `JitError` naming the eBPF instruction index and why
 * (nfp/lower-table.ts). The register map is in nfp/regs.ts, the lowerings and their
 * costs in docs/jit.md.
 *
 * The result is the card program, the source map (card address → eBPF index, or
 * NO_SOURCE for the stack prologue, the outro and the pad), where each eBPF
 * instruction starts on the card, every relocation the image's loader applies, and
 * `endPc`: the address the executor's `run` stops at, after which the action code is
 * in gprA_0 and r0 in gprB_0 (low) / gprB_1 (high).
 */
import type { BrInsn, Insn } from '../../nic-sim/isa/instructions.js';
import { MAX_TARGET } from '../../nic-sim/isa/tables.js';
import { slotIndices, type Insn as EbpfInsn } from '../../xdp/isa/insn.js';
import { kindOf, type InsnKind } from '../../xdp/isa/kind.js';
import { JitError } from './errors.js';
import { branch, type EmitCtx } from './nfp/emit.js';

const branchToAbort = (ctx: EmitCtx): void => branch(ctx, 'always', { k: 'label', name: 'abort' });
import { NO_SOURCE, createEmitCtx, type CardReloc, type JitRegFacts, type Reloc, type UntypedMemory } from './nfp/emit.js';
import { baseReg, classifyBase, emitGatherCopy } from './nfp/lower-mem.js';
import { lowerInsn } from './nfp/lower-table.js';
import { emitOutro, outroShape } from './nfp/outro.js';
import { compact } from './nfp/compact.js';
import { exitsConstant, mainExits, plannedRecords } from './nfp/planned.js';
export { exitsConstant, plannedRecords, type Planned } from './nfp/planned.js';
export { loweredReads, type ReadOptions } from './nfp/const-src.js';
export type { StoreSpan } from './nfp/st-combine.js';
import { FP, emitStackPrologue } from './nfp/lower-stack.js';
import { emitLocalCall, emitPrologue, emitReturn, planFunctions } from './nfp/functions.js';
import { PASSES, type PassName } from './nfp/passes.js';
import { skippedInsns } from './nfp/skip-insns.js';
import { highLiveness } from './nfp/high-liveness.js';
import { planPacketCache } from './nfp/pkt-cache.js';
import { planGather, type GatherUse } from './nfp/gather.js';
import { jumpTargets } from './nfp/jit-records.js';


export { NO_SOURCE, type CardReloc, type CardRelocKind, type JitRegFacts } from './nfp/emit.js';
export { PASSES, isPassName, type PassName } from './nfp/passes.js';
export { highLiveness, type HighLiveness } from './nfp/high-liveness.js';
export { ACTION_GPR } from './nfp/regs.js';
export { nfpActionOf, NfpAction, XdpAction } from './nfp/outro.js';
export { JitError, type JitErrorKind } from './errors.js';

/** What the translator needs of a record (offload/verifier/insn-records.ts `InsnRecord` has it). */
export interface JitRecord {
  /** The kernel's instruction index (8-byte slots). */
  readonly index: number;
  readonly insn: EbpfInsn;
  readonly kind: InsnKind;
  /** The verifier's facts of each register the instruction reads (absent: the program was not verified). */
  readonly reads?: readonly (JitRegFacts | undefined)[];
  /** Times the verifier reached it (0: dead code). */
  readonly visits?: number;
}

export interface TranslateOptions {
  /** Memory of loads and stores whose base has no verifier type: refused (default), or the packet memory. */
  readonly untypedMemory?: UntypedMemory;
  /** The caps' adjust_head window (CTM addresses the packet's start may move within). */
  readonly adjustHead?: { readonly offMin: number; readonly offMax: number };
  /** The optimisations to run (nfp/passes.ts); default all. */
  readonly passes?: ReadonlySet<PassName>;
  /** The program's result is a 32-bit value (an XDP action): its exit does not read r0's high word. */
  readonly u32Return?: boolean;
}

export interface CardProgram {
  readonly insns: readonly Insn[];
  /** Per card address: the eBPF instruction index it came from, or NO_SOURCE. */
  readonly sourceMap: readonly number[];
  /** eBPF instruction index → card address of its first instruction. */
  readonly addressOf: ReadonlyMap<number, number>;
  /** Start of the shared outro. */
  readonly outroPc: number;
  /** Where a run ends (pass it to `run` as `endPc`); the prefetch pad follows. */
  readonly endPc: number;
  /** Every relocation the image's loader applies, branches included, in address order. */
  readonly relocs: readonly CardReloc[];
}

/** Records for a bare instruction list (no verifier walk): index and kind only. */
export function recordsFromInsns(insns: readonly EbpfInsn[]): JitRecord[] {
  const slots = slotIndices(insns);
  return insns.map((insn, pos) => ({ index: slots[pos]!, insn, kind: kindOf(insn) }));
}

function resolve(r: Reloc, addressOf: ReadonlyMap<number, number>, labels: ReadonlyMap<string, number>): number {
  if (r.target.k === 'label') {
    const at = labels.get(r.target.name);
    if (at === undefined) throw new Error(`JIT: outro label ${r.target.name} was never defined`);
    return at;
  }
  if (r.target.k === 'local') {
    if (r.target.addr < 0) throw new Error(`JIT: a local branch of instruction ${r.from} never landed`);
    return r.target.addr;
  }
  const at = addressOf.get(r.target.index);
  if (at === undefined) {
    throw new JitError('bad-target', r.from, `jump to ${r.target.index}, which is not the start of an instruction`);
  }
  return at;
}

/** Does the record load or store through the stack (so that the image needs the stack's LM pointer)? */
function touchesStack(r: JitRecord, untyped: UntypedMemory): boolean {
  const k = r.kind.k;
  if (k !== 'ldx' && k !== 'st' && k !== 'stx' && k !== 'atomic') return false;
  const reg = baseReg(r.insn, r.kind);
  return reg === FP || classifyBase(reg, r.reads?.[reg], r.reads !== undefined, untyped).k === 'stack';
}

/** The union of r0's unsigned ranges at the exits, where the verifier bounds it as a scalar at every one. */
function r0Range(exits: readonly JitRecord[]): [bigint | undefined, bigint | undefined] {
  let lo: bigint | undefined;
  let hi: bigint | undefined;
  for (const r of exits) {
    const f = r.reads?.[0];
    if (!f || f.types.size !== 1 || !f.types.has('scalar') || f.umin === undefined || f.umax === undefined) return [undefined, undefined];
    lo = lo === undefined || f.umin < lo ? f.umin : lo;
    hi = hi === undefined || f.umax > hi ? f.umax : hi;
  }
  return [lo, hi];
}

export function translate(records: readonly JitRecord[], opts: TranslateOptions = {}): CardProgram {
  const untypedMemory = opts.untypedMemory ?? 'refuse';
  const usesStack = records.some((r) => touchesStack(r, untypedMemory));
  const { frames, frameOf } = planFunctions(records);
  const passes: ReadonlySet<PassName> = opts.passes ?? new Set(PASSES);
  const mainEnd = frames[1]?.start ?? Infinity;
  const exits = mainExits(records, mainEnd);
  const constExit = exitsConstant(records, passes, mainEnd);
  const shape = passes.has('outro-range') || constExit ? outroShape(constExit, ...r0Range(exits)) : 'full';
  const ctx = createEmitCtx({
    untypedMemory, usesStack, hasCalls: frames.length > 1, passes, constExit, ...(opts.adjustHead ? { adjustHead: opts.adjustHead } : {}),
  });
  const { planned, away, reads: readOpts } = plannedRecords(records, passes, constExit && (opts.u32Return ?? false), mainEnd);
  ctx.tables = readOpts.tables;
  const { skip, fused } = skippedInsns(planned, passes);
  const hiLive = highLiveness(planned, frames[1]?.start ?? Infinity, opts.u32Return ?? false, passes).liveOut;
  if (passes.has('pkt-cache')) ctx.cache = planPacketCache(planned);
  const gather = passes.has('gather') ? planGather(planned, jumpTargets(planned)) : new Map<number, GatherUse>();
  const plannedAt = new Map(planned.map((r) => [r.index, r]));
  const addressOf = new Map<number, number>();
  if (usesStack) emitStackPrologue(ctx);
  for (const original of records) {
    const rec = plannedAt.get(original.index) ?? original;
    ctx.index = rec.index;
    ctx.reads = rec.reads;
    const frame = frameOf(rec.index);
    ctx.frameTop = frame.frameTop;
    ctx.hiLive = hiLive.get(rec.index) ?? ~0;
    addressOf.set(rec.index, ctx.out.length);
    if (frame !== frames[0] && rec.index === frame.start) emitPrologue(ctx, frame);
    if (skip.has(rec.index) || away.has(rec.index)) continue;
    const fuse = fused.get(rec.index);
    if (fuse) {
      // The operation, with its own facts and liveness, reading the move's source; attributed to the move.
      ctx.reads = fuse.op.reads;
      ctx.hiLive = hiLive.get(fuse.op.index) ?? ~0;
      ctx.fuseLeft = fuse.from;
      lowerInsn(ctx, fuse.op.insn, fuse.op.kind);
      ctx.fuseLeft = undefined;
      continue;
    }
    const gathered = gather.get(rec.index);
    if (gathered?.k === 'skip') continue;
    if (gathered?.k === 'copy') {
      emitGatherCopy(ctx, gathered.copy);
      continue;
    }
    // Code the verifier never reached has no facts: it becomes a branch to the abort path (or nothing, dead-code).
    if (rec.visits === 0) branchToAbort(ctx);
    // Subprogram calls and returns need the function layout, which the per-kind table does not see.
    else if (rec.kind.k === 'call' && rec.kind.target === 'local') emitLocalCall(ctx, rec, frame);
    else if (rec.kind.k === 'exit' && frame !== frames[0]) emitReturn(ctx, frame);
    else lowerInsn(ctx, rec.insn, rec.kind);
  }
  ctx.reads = undefined;
  ctx.index = NO_SOURCE;
  emitOutro(ctx, shape);
  if (passes.has('compact')) compact(ctx, addressOf);
  if (ctx.out.length - 1 > MAX_TARGET) {
    const last = records.length ? records[records.length - 1]!.index : 0;
    throw new JitError('too-large', last, `the card image needs ${ctx.out.length} instructions; branch targets reach ${MAX_TARGET + 1}`);
  }
  const relocs: CardReloc[] = [...ctx.cardRelocs];
  for (const r of ctx.relocs) {
    const br = ctx.out[r.at] as BrInsn;
    const target = resolve(r, addressOf, ctx.labels);
    ctx.out[r.at] = { ...br, target };
    relocs.push({ at: r.at, kind: 'branch', target, offset: 0 });
  }
  relocs.sort((a, b) => a.at - b.at);
  return {
    insns: ctx.out,
    sourceMap: ctx.sourceMap,
    addressOf,
    outroPc: ctx.labels.get('outro')!,
    endPc: ctx.labels.get('end')!,
    relocs,
  };
}

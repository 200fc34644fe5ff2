/**
 * The compact pass: card instructions the emitted code does not need, removed after
 * emission and before branches are resolved —
 *
 * - the `nop`s that wait out a local-memory pointer's write delay (the NFP's three
 *   instructions between `local_csr_wr[ACT_LM_ADDRn]` and the first use of pointer n,
 *   which the kernel JIT pads with `nop`s) where the instructions that follow can
 *   fill the delay instead: straight-line instructions that use no local memory at
 *   all, take nothing from the previous ALU result, and are no branch target;
 * - an unconditional `br` without defer slots to the next instruction left (an exit
 *   just before the outro, a jump over code that was removed), unless it sits in
 *   another instruction's defer slot.
 *
 * Removing an instruction moves every later address down: instruction starts, labels,
 * branch relocations, local targets and the card relocations (a return address in an
 * `immed` is both a relocation and the immediate's value) all follow; an address that
 * pointed at a removed instruction points at the next one kept.
 */
import { isNop, type Insn } from '../../../nic-sim/isa/instructions.js';
import type { Dst, Src } from '../../../nic-sim/isa/operands.js';
import { LM_ADDR_WRITE_LATENCY } from '../../../nic-sim/isa/tables.js';
import type { EmitCtx, Reloc } from './emit.js';

const isLmWrite = (i: Insn): boolean => i.cls === 'local_csr' && i.write && i.csr.startsWith('ACT_LM_ADDR');
const lm = (o: Src | Dst | undefined): boolean => o?.k === 'lm';

/** Can this instruction run in a pointer's write delay in place of a `nop`? */
function fillsDelay(i: Insn): boolean {
  switch (i.cls) {
    case 'alu': return !lm(i.a) && !lm(i.b) && !lm(i.dst);
    case 'alu_shf': return !lm(i.a) && !lm(i.b) && !lm(i.dst) && i.shift !== 'indirect';
    case 'ld_field': return !lm(i.a) && !lm(i.b);
    case 'immed': return !lm(i.dst);
    case 'cmd': return !lm(i.a) && !lm(i.b) && !i.indirect && i.defer === 0;
    default: return false; // branches, returns, CSR accesses, multiply steps
  }
}

const hasDefer = (i: Insn | undefined): boolean => !!i && 'defer' in i && i.defer > 0;

/** Where a branch relocation goes now (before resolution), if it is known. */
function targetOf(ctx: EmitCtx, addressOf: ReadonlyMap<number, number>, r: Reloc): number | undefined {
  const t = r.target;
  return t.k === 'insn' ? addressOf.get(t.index) : t.k === 'label' ? ctx.labels.get(t.name) : t.addr;
}

/** Card addresses something branches to (branch relocations and return addresses). */
function branchTargets(ctx: EmitCtx, addressOf: ReadonlyMap<number, number>): Set<number> {
  const out = new Set<number>();
  for (const r of ctx.relocs) {
    const at = targetOf(ctx, addressOf, r);
    if (at !== undefined) out.add(at);
  }
  for (const r of ctx.cardRelocs) if (r.kind === 'immed-addr') out.add(r.target);
  return out;
}

/** The delay `nop`s the following instructions can take over. */
function removableNops(out: readonly Insn[], end: number, targets: ReadonlySet<number>): Set<number> {
  const drop = new Set<number>();
  for (let p = 0; p < end; p++) {
    if (!isNop(out[p]!)) continue;
    let q = p;
    while (q < end && isNop(out[q]!)) q++;
    // A run of nops within the delay of an LM pointer write just before it.
    const written = out.slice(Math.max(0, p - LM_ADDR_WRITE_LATENCY), p).some(isLmWrite);
    if (written) {
      let fill = 0;
      while (fill < q - p && q + fill < end && fillsDelay(out[q + fill]!) && !targets.has(q + fill)) fill++;
      for (let k = p; k < q; k++) if (targets.has(k)) fill = 0;
      for (let k = 0; k < fill; k++) drop.add(p + k);
    }
    p = q - 1;
  }
  return drop;
}

/** Resolved target of the branch relocation at `at`, if it is an unconditional `br` without defer. */
function plainBranchTargets(ctx: EmitCtx, addressOf: ReadonlyMap<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of ctx.relocs) {
    const i = ctx.out[r.at]!;
    if (i.cls !== 'br' || i.cond !== 'always' || i.defer !== 0) continue;
    const to = targetOf(ctx, addressOf, r);
    if (to !== undefined) out.set(r.at, to);
  }
  return out;
}

/** Apply the pass to the emitted program (addresses in `addressOf`, the context's labels and relocations move). */
export function compact(ctx: EmitCtx, addressOf: Map<number, number>): number {
  const end = ctx.labels.get('end') ?? ctx.out.length;
  const drop = removableNops(ctx.out, end, branchTargets(ctx, addressOf));
  // Branches to the next kept instruction, last first so that a chain of them goes.
  const plain = [...plainBranchTargets(ctx, addressOf)].sort((a, b) => b[0] - a[0]);
  for (const [at, to] of plain) {
    if (to <= at || hasDefer(ctx.out[at - 1]) || hasDefer(ctx.out[at - 2])) continue;
    let between = true;
    for (let k = at + 1; k < to && between; k++) between = drop.has(k);
    if (between) drop.add(at);
  }
  if (drop.size === 0) return 0;

  const moved = new Int32Array(ctx.out.length + 1);
  for (let i = 0, kept = 0; i <= ctx.out.length; i++) {
    moved[i] = kept;
    if (i < ctx.out.length && !drop.has(i)) kept++;
  }
  const to = (a: number): number => moved[a]!;
  const keep = <T>(xs: T[]): void => {
    const kept = xs.filter((_, i) => !drop.has(i));
    xs.splice(0, xs.length, ...kept);
  };
  keep(ctx.out);
  keep(ctx.sourceMap);
  for (const [index, at] of addressOf) addressOf.set(index, to(at));
  for (const [name, at] of ctx.labels) ctx.labels.set(name, to(at));
  const relocs = ctx.relocs.filter((r) => !drop.has(r.at)).map((r) => {
    if (r.target.k === 'local') r.target.addr = to(r.target.addr);
    return { ...r, at: to(r.at) };
  });
  ctx.relocs.splice(0, ctx.relocs.length, ...relocs);
  const card = ctx.cardRelocs.map((r) => {
    if (drop.has(r.at)) throw new Error(`JIT: compact removed the relocated instruction at ${r.at}`);
    if (r.kind !== 'immed-addr') return { ...r, at: to(r.at) };
    const at = to(r.at);
    const insn = ctx.out[at]!;
    if (insn.cls !== 'immed') throw new Error(`JIT: return-address relocation at ${r.at} is not on an immed`);
    ctx.out[at] = { ...insn, value: to(r.target) };
    return { ...r, at, target: to(r.target) };
  });
  ctx.cardRelocs.splice(0, ctx.cardRelocs.length, ...card);
  return drop.size;
}

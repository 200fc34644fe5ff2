/**
 * The card-core executor as generated JavaScript: one function per image, a `switch`
 * over the PC with each instruction's semantics written out for its operands (the
 * ALU operation, shift, byte mask, immediate and registers fixed at compile time), so
 * that a packet pays neither the interpreter's decoding nor its per-step checks. What
 * it computes, counts and reports to a meter is exactly what `run` (run.ts) does — the
 * tests hold both to each other, instruction class by instruction class.
 *
 * Written out: alu, alu_shf with an immediate shift, ld_field, immed, br, br_byte,
 * br_bit, local_csr writes of an LM pointer, and memory commands of a fixed length to
 * CTM or EMEM (32-bit addresses); operands in GPRs, transfer registers, immediates and
 * LM without post-modification. Everything else — other commands, br_alu, LM
 * post-modification, indirect shifts, and a command whose range leaves its memory (the
 * error is the interpreter's to raise) — runs through the interpreter's own code for
 * that one instruction, so there is one definition of its semantics and its errors.
 * The condition codes and the previous-ALU state are locals of the generated code,
 * written back to the state around the interpreter, firmware and the run's end
 * (compile-timed.ts further leaves out the values the next instructions overwrite
 * unread). Images
 * that use what cannot be decided statically here (multiplies, local_csr_rd, defer
 * slots that hold branches or swaps or reach the end or a firmware address) are not
 * compiled: `compileProgram` says why and the caller runs the interpreter.
 *
 * The generated source holds only numbers and names this generator made (register
 * indices, constants, labels); nothing of the image is pasted in as text.
 */
import type { AluInsn, AluShfInsn, BrBitInsn, BrByteInsn, BrInsn, CmdInsn, ImmedInsn, Insn, InsnOf, LdFieldInsn } from '../isa/instructions.js';
import { xferWords } from '../isa/codec-cmd.js';
import { logicalOperands } from '../isa/instructions.js';
import type { Dst, Src } from '../isa/operands.js';
import { CSR_LM_INDEX, CSR_WRITABLE, LM_ADDR_WRITE_LATENCY, MAX_TARGET, XFER_COUNT, type ShiftClass } from '../isa/tables.js';
import type { BranchOutcome } from './branch.js';
import { EXEC, isBranch, type ExecFn } from './classes.js';
import type { StepContext } from './context.js';
import { insnText } from './context.js';
import type { RunCounters } from './counters.js';
import { CoreError } from './errors.js';
import { byteMaskBits } from './ld-field.js';
import type { Meter } from './meter.js';
import { applyPostMods } from './operands.js';
import type { FirmwareRoutine } from './run.js';
import { RETURN_GPR_B } from './run.js';
import { shift } from './shifter.js';
import { TICK_DELAYS, tickDelays, type CoreState } from './state.js';

export interface CompileOptions {
  readonly startPc: number;
  readonly endPc: number;
  readonly firmware: ReadonlyMap<number, FirmwareRoutine>;
  readonly stepLimit: number;
}

/** A compiled image: runs one packet on a state from its start address to its end address. */
export type CompiledRun = (s: CoreState, counters: RunCounters, meter: Meter | null, context: StepContext) => void;

const u = (n: number): string => String(n >>> 0);

/** Why an image cannot be compiled, or undefined when it can. */
export function unsupported(program: readonly Insn[], o: CompileOptions): string | undefined {
  for (let pc = 0; pc < program.length; pc++) {
    const i = program[pc];
    if (i === undefined) continue;
    if (i.cls === 'mul') return `pc ${pc}: multiply sequences`;
    if (i.cls === 'local_csr' && !i.write) return `pc ${pc}: local_csr_rd`;
    const defer = isBranch(i) ? (i as { defer: number }).defer : i.cls === 'cmd' && i.ctxSwap ? i.defer : 0;
    for (let k = 1; k <= defer; k++) {
      const slot = program[pc + k];
      if (slot === undefined || pc + k === o.endPc || o.firmware.has(pc + k)) return `pc ${pc}: a defer slot outside the code`;
      if (isBranch(slot) || (slot.cls === 'cmd' && slot.ctxSwap)) return `pc ${pc}: a branch or swap in a defer slot`;
    }
  }
  return undefined;
}

/** Source text of reading an operand (LM: the word at its pointer, little endian). */
function src(op: Src): string {
  switch (op.k) {
    case 'gpr': return `${op.bank === 'a' ? 'A' : 'B'}[${op.n}]`;
    case 'xfer': return `XI[${op.n}]`;
    case 'imm': return u(op.value);
    case 'lm': return `LMV.getUint32((LMA[${op.index}] & 0xffc) | ${op.off * 4}, true)`;
  }
}

/** Statements writing `v` (an expression) to a destination. */
function dst(op: Dst, v: string): string {
  switch (op.k) {
    case 'gpr':
      if (op.bank === 'a') return `A[${op.n}] = ${v};`;
      if (op.bank === 'b') return `B[${op.n}] = ${v};`;
      return `w = ${v}; A[${op.n}] = w; B[${op.n}] = w;`;
    case 'xfer': return `XO[${op.n}] = ${v};`;
    case 'lm': return `LMV.setUint32((LMA[${op.index}] & 0xffc) | ${op.off * 4}, (${v}) >>> 0, true);`;
    case 'none': return '';
  }
}

/** LM pointers an instruction's operands use (without post-modification: others run interpreted). */
export function lmUses(ops: readonly (Src | Dst)[]): number[] {
  return [...new Set(ops.filter((op): op is Extract<Src, { k: 'lm' }> => op.k === 'lm').map((op) => op.index))];
}

export const postModified = (ops: readonly (Src | Dst)[]): boolean => ops.some((op) => op.k === 'lm' && op.post !== 'none');

const ALU: Readonly<Record<AluInsn['op'], (l: string, r: string) => string>> = {
  none: (_l, r) => `v = ${r}; c = false; o = false;`,
  not: (_l, r) => `v = (~${r}) >>> 0; c = false; o = false;`,
  add: (l, r) => `t = ${l} + ${r}; v = t >>> 0; c = t > 0xffffffff; t = (${l} | 0) + (${r} | 0); o = t > 0x7fffffff || t < -0x80000000;`,
  add_c: (l, r) => `k = fc ? 1 : 0; t = ${l} + ${r} + k; v = t >>> 0; c = t > 0xffffffff; t = (${l} | 0) + (${r} | 0) + k; o = t > 0x7fffffff || t < -0x80000000;`,
  add_2b: (l, r) => `t = (${l} & 0xffff) + (${r} & 0xffff); v = t & 0xffff; c = t > 0xffff; o = false;`,
  sub: (l, r) => `t = ${l} - ${r}; v = t >>> 0; c = t >= 0; t = (${l} | 0) - (${r} | 0); o = t > 0x7fffffff || t < -0x80000000;`,
  sub_c: (l, r) => `k = fc ? 0 : 1; t = ${l} - ${r} - k; v = t >>> 0; c = t >= 0; t = (${l} | 0) - (${r} | 0) - k; o = t > 0x7fffffff || t < -0x80000000;`,
  and: (l, r) => `v = (${l} & ${r}) >>> 0; c = false; o = false;`,
  and_not_a: (l, r) => `v = (~${l} & ${r}) >>> 0; c = false; o = false;`,
  and_not_b: (l, r) => `v = (${l} & ~${r}) >>> 0; c = false; o = false;`,
  or: (l, r) => `v = (${l} | ${r}) >>> 0; c = false; o = false;`,
  xor: (l, r) => `v = (${l} ^ ${r}) >>> 0; c = false; o = false;`,
};

/**
 * Which of the state an instruction writes besides its destination is read before it
 * is written again: the condition codes, the previous ALU's A operand, the previous
 * result. Whoever generates the code decides (compile-timed.ts looks ahead); a value
 * not kept is not computed.
 */
export interface Keep {
  readonly flags: boolean;
  readonly prevA: boolean;
  readonly prevResult: boolean;
}

export const KEEP_ALL: Keep = { flags: true, prevA: true, prevResult: true };

function alu(i: AluInsn, keep: Keep): string {
  const [lo, ro] = logicalOperands(i);
  // Operands are read before anything is written (into locals), as the interpreter reads them.
  const flags = keep.flags ? 'fz = v === 0; fn = (v >>> 31) === 1; fc = c; fv = o; ' : '';
  const prev = `${keep.prevA ? `pA = ${i.swap ? 'r' : 'l'}; ` : ''}${keep.prevResult ? 'pR = v; ' : ''}`;
  return `l = ${src(lo)}; r = ${src(ro)}; ${ALU[i.op]('l', 'r')} ${flags}${prev}${dst(i.dst, 'v')}`;
}

/**
 * The shifter (shifter.ts `shift`) on `l` and the local `r` by a fixed amount, as an
 * expression; `fill` the expression of ASHR's sign bit.
 */
function shiftExpr(sc: ShiftClass, n: number, fill: string, l = 'l'): string {
  switch (sc) {
    case 'rot': {
      const k = n & 31;
      return k === 0 ? '(r >>> 0)' : `(((r >>> ${k}) | (r << ${32 - k})) >>> 0)`;
    }
    case 'shr':
      if (n === 0) return '(r >>> 0)';
      return fill === 'false' ? `(r >>> ${n})` : `((${fill} ? (r >>> ${n}) | ${u(~0 << (32 - n))} : r >>> ${n}) >>> 0)`;
    case 'shl':
      return n === 0 ? '(r >>> 0)' : `((r << ${n}) >>> 0)`;
    case 'dshr':
      return n === 0 ? '(r >>> 0)' : n === 32 ? `(${l} >>> 0)` : `(((${l} << ${32 - n}) | (r >>> ${n})) >>> 0)`;
  }
}

function aluShf(i: AluShfInsn): string {
  const [lo, ro] = logicalOperands(i);
  const fill = i.op === 'ashr' ? '(pR >>> 31) === 1' : 'false';
  // An indirect amount is the previous ALU's A operand (alu-shf.ts); the double shift's, which can fail, runs interpreted.
  const shifted = i.shift === 'indirect' ? `SH(${JSON.stringify(i.sc)}, l, r, pA & 31, ${fill})` : shiftExpr(i.sc, i.shift, fill);
  const result = i.op === 'and' ? `((l & ${shifted}) >>> 0)` : i.op === 'or' ? `((l | ${shifted}) >>> 0)` : shifted;
  return `l = ${src(lo)}; r = ${src(ro)}; v = ${result}; ${dst(i.dst, 'v')}`;
}

function ldField(i: LdFieldInsn): string {
  const [lo, ro] = logicalOperands(i);
  const mask = byteMaskBits(i.byteMask);
  const shifted = shiftExpr(i.sc, i.shift, 'false', '0');
  const into: Dst = lo.k === 'gpr' && i.wrBoth ? { k: 'gpr', bank: 'ab', n: lo.n } : (lo as Dst);
  return `l = ${src(lo)}; r = ${src(ro)}; v = ((${shifted} & ${mask}) | ${i.zero ? '0' : `(l & ${u(~mask)})`}) >>> 0; ${dst(into, 'v')}`;
}

/** immed's value merged into `old` (the interpreter's `merged`, immed.ts), as an expression. */
function mergedExpr(i: ImmedInsn, old: string): string {
  const sh = 8 * i.shift;
  if (i.width === 'all') return u(i.invert ? ~(i.value << sh) : i.value << sh);
  const field = i.width === 'word' ? 0xffff : 0xff;
  const v = (i.invert ? ~i.value & field : i.value & field) << sh;
  return `((${old} & ${u(~(field << sh))}) | ${u(v)}) >>> 0`;
}

function immed(i: ImmedInsn, keep: Keep): string {
  const d = i.dst;
  const prev = keep.prevResult ? ' pR = v;' : '';
  if (i.width !== 'all' && d.k === 'gpr' && d.bank === 'ab') {
    return `v = ${mergedExpr(i, `A[${d.n}]`)}; B[${d.n}] = ${mergedExpr(i, `B[${d.n}]`)}; A[${d.n}] = v;${prev}`;
  }
  const old = i.width === 'all' ? '0'
    : d.k === 'gpr' ? `${d.bank === 'b' ? 'B' : 'A'}[${d.n}]`
      : d.k === 'xfer' ? `XO[${d.n}]` : d.k === 'lm' ? src({ k: 'lm', index: d.index, off: d.off, post: 'none' }) : '0';
  return `v = ${mergedExpr(i, old)};${prev} ${dst(d, 'v')}`;
}

const COND: Readonly<Record<BrInsn['cond'], string>> = {
  eq: 'fz', ne: '!fz', mi: 'fn', pl: '!fn', hs: 'fc', lo: '!fc', vs: 'fv', vc: '!fv', ge: 'fn === fv', lt: 'fn !== fv', always: 'true',
};

function branch(i: BrInsn | BrByteInsn | BrBitInsn): string {
  const cond = i.cls === 'br' ? COND[i.cond]
    : i.cls === 'br_byte' ? `(((${src(i.src)} >>> ${8 * i.byte}) & 0xff) === ${i.value}) === ${i.equal}`
      : `(((${src(i.src)} >>> ${i.bit}) & 1) === 1) === ${i.set}`;
  return `br = true; taken = ${cond}; target = ${i.target}; defer = ${i.defer};`;
}

/** The address operands' sum, as the `addr32` mode forms it. */
const addr32 = (i: CmdInsn): string => `a = (${src(i.a)} + ${src(i.b)}) >>> 0;`;

/** A memory command moving fixed-length data (the interpreter's cmd.ts actions, unrolled). */
function command(i: CmdInsn): string | undefined {
  if (i.indirect || i.mode !== 'addr32' || postModified([i.a, i.b])) return undefined;
  const regs = xferWords(i.action, i.length);
  if (i.xfer + regs > XFER_COUNT) return undefined;
  const le = i.byteSwap;
  const view = i.target === 'ctm' ? 'CTMV' : i.target === 'emem' ? 'EMEMV' : undefined;
  const bytes = i.target === 'ctm' ? 'CTM' : 'EMEM';
  if (view === undefined) return undefined;
  const size = i.action === 'read8' || i.action === 'write8' ? i.length : 4 * regs;
  const x0 = i.xfer;
  const lane = (j: number) => (le ? 8 * (j & 3) : 24 - 8 * (j & 3));
  const body: string[] = [];
  const n = i.length;
  switch (i.action) {
    case 'read32':
      for (let k = 0; k < n; k++) body.push(`XI[${x0 + k}] = ${view}.getUint32(a + ${4 * k}, ${le});`);
      break;
    case 'write32':
      for (let k = 0; k < n; k++) body.push(`${view}.setUint32(a + ${4 * k}, XO[${x0 + k}], ${le});`);
      break;
    case 'read8':
      for (let k = 0; k < Math.ceil(n / 4); k++) body.push(`XI[${x0 + k}] = 0;`);
      for (let j = 0; j < n; j++) body.push(`XI[${x0 + (j >> 2)}] = (XI[${x0 + (j >> 2)}] | (${bytes}[a + ${j}] << ${lane(j)})) >>> 0;`);
      break;
    case 'write8':
      for (let j = 0; j < n; j++) body.push(`${bytes}[a + ${j}] = (XO[${x0 + (j >> 2)}] >>> ${lane(j)}) & 0xff;`);
      break;
    case 'add32':
      for (let k = 0; k < n; k++) body.push(`${view}.setUint32(a + ${4 * k}, (${view}.getUint32(a + ${4 * k}, ${le}) + XO[${x0 + k}]) >>> 0, ${le});`);
      break;
    case 'add64':
      for (let k = 0; k < n; k++) {
        // Low word first in memory when little-endian, high word first when big-endian.
        const lo = 8 * k + (le ? 0 : 4);
        const hi = 8 * k + (le ? 4 : 0);
        body.push(`t = ${view}.getUint32(a + ${lo}, ${le}) + XO[${x0 + 2 * k}]; ${view}.setUint32(a + ${lo}, t >>> 0, ${le}); ` +
          `${view}.setUint32(a + ${hi}, (${view}.getUint32(a + ${hi}, ${le}) + XO[${x0 + 2 * k + 1}] + (t > 0xffffffff ? 1 : 0)) >>> 0, ${le});`);
      }
      break;
  }
  // Out of the region: the interpreter raises the memory error.
  return `${addr32(i)} if (a + ${size} > ${bytes}.length) { o2 = slow(PC); } else { ${body.join(' ')} }`;
}

/** The instruction's own statements, or undefined when it runs interpreted. */
function fast(i: Insn, keep: Keep = KEEP_ALL): string | undefined {
  switch (i.cls) {
    case 'alu': return postModified([i.a, i.b, i.dst]) ? undefined : alu(i, keep);
    case 'alu_shf': return (i.shift === 'indirect' && i.sc === 'dshr') || postModified([i.a, i.b, i.dst]) ? undefined : aluShf(i);
    case 'ld_field': {
      const [lo] = logicalOperands(i);
      return lo.k === 'imm' || postModified([i.a, i.b]) ? undefined : ldField(i);
    }
    case 'immed': return i.dst.k === 'lm' && i.dst.post !== 'none' ? undefined : immed(i, keep);
    case 'br': return branch(i);
    case 'br_byte': case 'br_bit': return postModified([i.src]) ? undefined : branch(i);
    case 'cmd': return command(i);
    case 'local_csr': {
      // A write of an LM pointer (run.ts counts its delay down after this instruction too); anything else runs interpreted.
      const lm = CSR_LM_INDEX[i.csr];
      if (!i.write || lm === undefined || !CSR_WRITABLE[i.csr] || i.src.k === 'lm') return undefined;
      return `LMA[${lm}] = (${src(i.src)} & 0xffc) >>> 0; D[${lm}] = ${LM_ADDR_WRITE_LATENCY + 1}; dl = 1;`;
    }
    default: return undefined;
  }
}

/** The operands of an instruction that can be LM words (for the write-delay check). */
export function operandsOf(i: Insn): (Src | Dst)[] {
  switch (i.cls) {
    case 'alu': case 'alu_shf': return [i.a, i.b, i.dst];
    case 'ld_field': return [i.a, i.b];
    case 'immed': return [i.dst];
    case 'br_byte': case 'br_bit': return [i.src];
    case 'cmd': return [i.a, i.b];
    default: return [];
  }
}

/**
 * The statements of one instruction at pc: its semantics (a branch sets `br`, `taken`,
 * `target` and `defer`), run interpreted where they are not written out here.
 */
export function insnStatements(pc: number, i: Insn, keep: Keep = KEEP_ALL): string {
  const call = slowCall(pc);
  const own = fast(i, keep)?.replace('o2 = slow(PC);', call);
  const interpreted = i.cls === 'cmd' || i.cls === 'br_alu' || i.cls === 'local_csr'
    ? `${call} ${i.cls === 'br_alu' ? 'br = true; taken = o2.taken; target = o2.target; defer = o2.defer;' : ''}${i.cls === 'local_csr' ? ' dl = 1;' : ''}`
    : `${call} if (o2 !== undefined) { br = true; taken = o2.taken; target = o2.target; defer = o2.defer; }`;
  // An LM operand within its pointer's write delay is an error the interpreter raises (and words).
  const lms = own === undefined ? [] : lmUses(operandsOf(i));
  return own === undefined ? interpreted
    : lms.length ? `if (${lms.map((n) => `D[${n}] !== 0`).join(' || ')}) { ${interpreted} } else { ${own} }` : own;
}

/**
 * The condition codes and the previous-ALU state live in locals of the generated code
 * (the engine drops what no branch reads); these write them back to the state, and
 * read them from it, around anything else that reads or writes them.
 */
export const FLAGS_OUT = 'F.z = fz; F.n = fn; F.c = fc; F.v = fv; s.prevA = pA; s.prevResult = pR;';
export const FLAGS_IN = 'fz = F.z; fn = F.n; fc = F.c; fv = F.v; pA = s.prevA; pR = s.prevResult;';

/** The interpreter running the instruction at pc, the state in step with it. */
const slowCall = (pc: number): string => `${FLAGS_OUT} o2 = interpret(ctx, ${pc}); ${FLAGS_IN}`;

/** Whether the instruction can raise an executor error (it runs interpreted, or can fall back to the interpreter). */
export function mayFail(i: Insn): boolean {
  return i.cls === 'cmd' || fast(i) === undefined || lmUses(operandsOf(i)).length > 0;
}

/** The case of one instruction: its work, its counters, and what follows it. */
function caseOf(pc: number, i: Insn): string {
  const cmd = i.cls === 'cmd'
    ? ` CM.${i.target}.${i.action}++;${i.ctxSwap ? ` C.ctxSwaps++;${i.defer > 0 ? ` sw = ${i.defer};` : ''}` : ''}`
    : '';
  return `case ${pc}: { ${insnStatements(pc, i)} BC.${i.cls}++;${cmd} break; }`;
}

/** The lowest firmware address (Infinity when there is none): below it no PC is a routine's. */
export function firmwareFloor(firmware: ReadonlyMap<number, unknown>): number {
  let from = Infinity;
  for (const a of firmware.keys()) if (a < from) from = a;
  return from;
}

/**
 * Generated code setting `routine` to the firmware routine at `pc` (undefined where there is
 * none): a switch over the routines' addresses, the routines in that order in `FWR`
 * (`firmwareList`).
 */
export function routineAtPc(firmware: ReadonlyMap<number, unknown>): string {
  return `let routine; switch (pc) { ${[...firmware.keys()].map((a, k) => `case ${a}: routine = FWR[${k}]; break;`).join(' ')} }`;
}

/** The routines in the order `routineAtPc` numbers them. */
export const firmwareList = <R>(firmware: ReadonlyMap<number, R>): R[] => [...firmware.values()];

/** One instruction as the interpreter runs it (the control flow stays the compiled code's). */
export function interpreterStep(program: readonly Insn[]): (ctx: StepContext, pc: number) => BranchOutcome | undefined {
  return (ctx, pc) => {
    const insn = program[pc]!;
    const x = ctx.at(pc, insn);
    const out = (EXEC[insn.cls] as ExecFn<Insn['cls']>)(x, insn as InsnOf<Insn['cls']>) as BranchOutcome | undefined;
    applyPostMods(x);
    return out;
  };
}

/** A firmware routine returned above the code's address range. */
export function badReturn(pc: number, ret: number): never {
  throw new CoreError('bad-pc', `firmware routine at ${pc} returns to 0x${ret.toString(16)}, above 0x${MAX_TARGET.toString(16)}`, pc, '');
}

/** The operand locals and state views every generated run starts with. */
export const PROLOGUE = `const A = s.gprA, B = s.gprB, XI = s.xferIn, XO = s.xferOut, LMA = s.lmAddr, D = s.lmDelay, F = s.flags;
  const LMV = ctx.lmView, CTM = s.mem.ctm, EMEM = s.mem.emem, CTMV = ctx.ctmView, EMEMV = ctx.ememView;
  let l = 0, r = 0, v = 0, w = 0, t = 0, k = 0, a = 0, c = false, o = false, o2 = undefined;
  let br = false, taken = false, target = 0, defer = 0;
  let fz = false, fn = false, fc = false, fv = false, pA = 0, pR = 0;
  ${FLAGS_IN}`;

/**
 * The image compiled, or why it cannot be (the caller then runs the interpreter).
 * `program[pc]` is the instruction at address pc.
 */
export function compileProgram(program: readonly Insn[], o: CompileOptions): { run: CompiledRun } | { unsupported: string } {
  const why = unsupported(program, o);
  if (why !== undefined) return { unsupported: why };
  const cases: string[] = [];
  for (let pc = 0; pc < program.length; pc++) {
    const i = program[pc];
    if (i !== undefined && pc !== o.endPc) cases.push(caseOf(pc, i));
  }
  const firmwareFrom = firmwareFloor(o.firmware);
  const source = `"use strict";
return function compiledRun(s, C, M, ctx) {
  ${PROLOGUE}
  const BC = C.byClass, CM = C.commands;
  let pc = ${o.startPc}, slots = 0, pend = -1, dl = tick(D, false), sw = 0;
  for (;;) {
    if (slots === 0) {
      if (pc >= ${Number.isFinite(firmwareFrom) ? firmwareFrom : 'Infinity'}) {
        ${routineAtPc(o.firmware)}
        if (routine !== undefined) {
          const ret = B[${RETURN_GPR_B}];
          ${FLAGS_OUT}
          if (M !== null) M.firmware(pc, s);
          routine(s);
          C.firmwareCalls++;
          if (ret > ${MAX_TARGET}) badReturn(pc, ret);
          pc = ret;
          continue;
        }
      }
      if (pc === ${o.endPc}) break;
    } else if (pc === ${o.endPc} || FW.has(pc)) {
      ${FLAGS_OUT} badSlot(pc);
    }
    if (C.steps >= ${o.stepLimit}) { ${FLAGS_OUT} stepLimit(pc); }
    br = false; taken = false; defer = 0; sw = 0;
    switch (pc) {
      ${cases.join('\n      ')}
      default: ${FLAGS_OUT} badPc(pc, slots);
    }
    if (dl !== 0) dl = ${TICK_DELAYS};
    C.steps++;
    let next = pc + 1;
    if (slots > 0) {
      slots--;
      if (slots === 0 && pend >= 0) { next = pend; pend = -1; }
    }
    if (M !== null) { M.step(pc, I[pc], br && taken, defer); if (I[pc].cls === 'cmd') M.command(pc, I[pc]); }
    if (br) {
      if (taken) C.branchesTaken++;
      if (defer > 0) { slots = defer; pend = taken ? target : -1; }
      else if (taken) next = target;
    } else if (sw > 0) {
      slots = sw;
    }
    pc = next;
  }
  ${FLAGS_OUT}
  s.pc = pc;
};`;
  const limit = o.stepLimit;
  const endPc = o.endPc;
  const helpers = {
    interpret: interpreterStep(program), tick: tickDelays, SH: shift, FW: o.firmware, FWR: firmwareList(o.firmware), I: program, badReturn,
    badSlot: (pc: number): never => {
      throw new CoreError('hazard', `a defer slot reaches ${pc === endPc ? 'the end address' : 'a firmware address'}`, pc, '');
    },
    badPc: (pc: number, slots: number): never => {
      throw new CoreError('bad-pc', `pc is outside the program (${program.length} instructions)${slots > 0 ? ' in a defer slot' : ''}`, pc, '');
    },
    stepLimit: (pc: number): never => {
      throw new CoreError('step-limit', `step limit of ${limit} instructions reached before the end address ${endPc}`, pc, insnText(program[pc]));
    },
  };
  const make = new Function(...Object.keys(helpers), source) as (...args: unknown[]) => CompiledRun;
  return { run: make(...Object.values(helpers)) };
}


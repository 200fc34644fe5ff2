/**
 * The card-core executor compiled by basic block into WebAssembly, with a timing
 * model's fixed prices baked in: the same blocks, stretches and charges as the
 * JavaScript one (timed-plan.ts walks the image for both), over the card's memories in
 * one WebAssembly memory (nic-sim/card/card-memory.ts). Each block is a target of one
 * `br_table` over the PC; blocks that follow each other fall through. The condition
 * codes, the previous-ALU state and the packet's work live in locals, written to the
 * memory's cells around anything JavaScript does:
 *
 * - `fw(pc)`: a firmware routine entered at pc (its price, then the routine, in
 *   JavaScript; it returns the address to go on at) — except lookups on ARRAY maps,
 *   which the module runs itself when told their layout and price (`NativeLookup`), and
 *   calls whose price it is told (`PricedCall`: the routine at pc on a table id), which
 *   it charges itself before calling out for the routine alone (`fwRoutine(pc)`), or,
 *   for lookups on a HASH map whose key index lies in the memory, before finding the
 *   key itself (`NativeHash`);
 * - `interp(pc)`: one instruction the generated code does not write out, or one that
 *   fails (a command out of its memory, an LM operand within its pointer's write
 *   delay), run by the interpreter's own code, as compile.ts does; it returns the
 *   branch outcome, if any, as (target << 1) | taken, or −1;
 * - `spill()`: the segments so far moved out to the packet's work (more swaps than the
 *   memory's segment area holds).
 *
 * `run(len)` returns −1 at the end address, otherwise the PC at which the interpreter
 * goes on (a block the step limit ends inside, an entry that is not a block's start);
 * with len ≥ 0 it first sets a packet's entry state (`WasmEntry`).
 *
 * The module holds only numbers this generator made (offsets, constants, indices).
 */
import type { AluInsn, AluShfInsn, BrBitInsn, BrByteInsn, BrInsn, CmdInsn, ImmedInsn, Insn, LdFieldInsn, LocalCsrInsn } from '../isa/instructions.js';
import { logicalOperands } from '../isa/instructions.js';
import { xferWords } from '../isa/codec-cmd.js';
import type { Dst, Src } from '../isa/operands.js';
import { CSR_LM_INDEX, CSR_WRITABLE, LM_ADDR_WRITE_LATENCY, LM_BYTES, LM_INDEX_COUNT, XFER_COUNT, type ShiftClass } from '../isa/tables.js';
import { firmwareFloor, lmUses, operandsOf, postModified, unsupported, type CompileOptions, type Keep } from './compile.js';
import type { FirmwarePrice, StaticPrices } from './meter.js';
import { walkTimed, type TimedPlan } from './timed-plan.js';
import { Code, F64, I32, I64, encodeModule } from './wasm-encoder.js';
import { byteMaskBits } from './ld-field.js';

/** Byte offsets of a core's registers and memories in one WebAssembly memory (card-memory.ts lays them out). */
export interface CoreRegions {
  /** Bank A's GPRs, then bank B's (32-bit words). */
  readonly gprs: number;
  readonly xferIn: number;
  readonly xferOut: number;
  /** ACT_LM_ADDR0…3 (32-bit words) and their write delays (one byte each). */
  readonly lmAddr: number;
  readonly lmDelay: number;
  readonly lm: number;
  readonly ctm: number;
  readonly emem: number;
}

/** Where the executor finds what it works on: the card memory's regions and its own scratch. */
export interface WasmExecLayout extends CoreRegions {
  readonly ctmBytes: number;
  readonly ememBytes: number;
  /** i32 cells: condition codes z n c v, prevA, prevResult, the segments in the area, callPc, whether JavaScript's work holds earlier segments (wasm-timed.ts). */
  readonly cells: number;
  /** f64 cells: cur, compute, sleep, steps. */
  readonly work: number;
  /** The segment area (f64 × segCapacity). */
  readonly segs: number;
  readonly segCapacity: number;
  /** Commands per memory, stretch counts, taken-site counts (f64 each). */
  readonly commands: number;
  readonly stretches: number;
  readonly stretchCapacity: number;
  readonly taken: number;
  readonly takenCapacity: number;
  /** Cycles and sleep charged to each instruction by firmware calls priced in WebAssembly (f64 per PC, folded into the hot spots). */
  readonly pcCycles: number;
  readonly pcSleep: number;
  /** Lock cycles per map of the calls priced in WebAssembly (f64 × lockMaps, folded into the work's). */
  readonly locks: number;
  readonly lockMaps: number;
  /** Pages the module imports (the card memory's size). */
  readonly pages: number;
}

/**
 * A packet's entry state, when the executor sets it itself (`run(len)` with len ≥ 0):
 * both GPR banks, the stack's LM bytes and the LM pointers' delays cleared, GPRs set in
 * both banks, and packet memory as the last packet left it cleared where the new one
 * (already written at `packetStart` by the caller) does not cover it.
 */
export interface WasmEntry {
  readonly packetStart: number;
  /** Whether the headroom before the packet is cleared too (an image that can move the packet's start). */
  readonly clearHeadroom: boolean;
  readonly stackBytes: number;
  /** GPR n of both banks set to a constant, or to the packet's length. */
  readonly gprs: readonly { readonly n: number; readonly value: number | 'length' }[];
  /** The i32 cell holding how far into CTM the last packet reached (the caller raises it after a run that grew the packet). */
  readonly dirtyCell: number;
}

/**
 * bpf_map_lookup_elem on ARRAY maps with 4-byte keys, run in WebAssembly instead of
 * calling out to the JavaScript routine: by the table id in gprA_0, where the map's
 * values lie and what a call costs (cycles only; a price with memory commands or lock
 * time, another table, an LM pointer within its delay or out of range, and a return
 * address out of range all go the JavaScript way, which raises the errors).
 */
export interface NativeLookup {
  readonly address: number;
  /** The LM pointer holding the key's address (routines.ts KEY_LM). */
  readonly keyPointer: number;
  readonly returnGpr: number;
  readonly maxTarget: number;
  readonly arrays: readonly { readonly table: number; readonly base: number; readonly stride: number; readonly maxEntries: number; readonly cycles: number }[];
}

/**
 * Firmware calls the module prices itself (the meter's fixed price for the routine at
 * `address` on table id `table`): it charges the price — cycles, the map memory's
 * commands and their swaps, lock time, each charged to the calling branch — and calls
 * out only for the routine's work (`fwRoutine`), with no work or prices to carry over.
 */
export interface PricedCall {
  readonly address: number;
  readonly table: number;
  readonly price: FirmwarePrice;
  /** A lookup on a HASH map whose key index lies in the memory: the module finds the key itself. */
  readonly hash?: NativeHash;
}

/**
 * bpf_map_lookup_elem on a HASH map run in WebAssembly: the key index as key-index.ts
 * keeps it in fixed storage (its table of slot + 1, 0 empty, −1 deleted, `mask` + 1
 * entries, probed linearly from the key's hash; each slot's key at `keys` + slot ×
 * keySize), the key's bytes hashed as key-index.ts hashBytes hashes them. A call whose
 * key pointer is within its write delay or runs past LM, or whose return address is past
 * the code, goes the JavaScript way, which raises the error.
 */
export interface NativeHash {
  readonly keyPointer: number;
  readonly returnGpr: number;
  readonly maxTarget: number;
  readonly keySize: number;
  /** Byte addresses in the memory of the index's table and keys. */
  readonly table: number;
  readonly mask: number;
  readonly keys: number;
  /** EMEM address of the map's first value and the bytes between values (what a lookup returns). */
  readonly base: number;
  readonly stride: number;
}

/** The i32 cells' and f64 cells' order. */
export const CELL = { z: 0, n: 1, c: 2, v: 3, prevA: 4, prevResult: 5, segN: 6, callPc: 7, held: 8 } as const;
export const WORK = { cur: 0, compute: 1, sleep: 2, steps: 3 } as const;

export interface WasmProgram {
  readonly module: WebAssembly.Module;
  readonly plan: TimedPlan;
}

// Import and function indices.
const FN_FW = 0;
const FN_INTERP = 1;
const FN_SPILL = 2;
const FN_FW_ROUTINE = 3;

type Emit = (c: Code) => void;

/** The image compiled, or why it cannot be (the caller runs another executor). */
export function compileWasm(program: readonly Insn[], o: CompileOptions & {
  readonly prices: StaticPrices; readonly layout: WasmExecLayout; readonly entry?: WasmEntry; readonly lookup?: NativeLookup; readonly priced?: readonly PricedCall[];
}): WasmProgram | { readonly unsupported: string } {
  const why = unsupported(program, o);
  if (why !== undefined) return { unsupported: why };
  // The delays are counted down as one word (tickDelays below): four pointers, each delay below 8.
  if (LM_INDEX_COUNT !== 4 || LM_ADDR_WRITE_LATENCY + 1 >= 8) throw new Error('compile-wasm: the LM pointers\' delays no longer fit one word of bytes below 8');
  const L = o.layout;
  // run(len): len ≥ 0 sets the packet's entry state first (o.entry).
  const c = new Code(1);
  const LEN = 0;
  const V = {
    pc: c.local(I32), dl: c.local(I32), fz: c.local(I32), fn: c.local(I32), fc: c.local(I32), fv: c.local(I32),
    pA: c.local(I32), pR: c.local(I32), l: c.local(I32), r: c.local(I32), v: c.local(I32), a: c.local(I32), taken: c.local(I32),
    target: c.local(I32), n: c.local(I32), callPc: c.local(I32), k: c.local(I32), x: c.local(I32),
    h: c.local(I32), w: c.local(I32), e: c.local(I32), i: c.local(I32),
    t: c.local(I64), s: c.local(I64),
    cur: c.local(F64), compute: c.local(F64), sleep: c.local(F64), steps: c.local(F64),
  };
  /** Labels between the code being written and the dispatch loop. */
  let depth = 0;
  const toLoop = (): number => depth;
  const nest = (open: () => void, body: () => void): void => {
    open();
    depth++;
    body();
    depth--;
    c.end();
  };
  const whenTrue = (cond: Emit, body: () => void): void => {
    cond(c);
    nest(() => c.if(), body);
  };

  // ---- State between the locals and the memory's cells.
  const flagsOut = (): void => {
    [V.fz, V.fn, V.fc, V.fv, V.pA, V.pR].forEach((loc, k) => c.i32Const(0).localGet(loc).i32Store(L.cells + 4 * k));
  };
  const flagsIn = (): void => {
    [V.fz, V.fn, V.fc, V.fv, V.pA, V.pR].forEach((loc, k) => c.i32Const(0).i32Load(L.cells + 4 * k).localSet(loc));
  };
  const workOut = (): void => {
    [V.cur, V.compute, V.sleep, V.steps].forEach((loc, k) => c.i32Const(0).localGet(loc).f64Store(L.work + 8 * k));
    c.i32Const(0).localGet(V.n).i32Store(L.cells + 4 * CELL.segN);
    c.i32Const(0).localGet(V.callPc).i32Store(L.cells + 4 * CELL.callPc);
  };
  const workIn = (): void => {
    [V.cur, V.compute, V.sleep, V.steps].forEach((loc, k) => c.i32Const(0).f64Load(L.work + 8 * k).localSet(loc));
    c.i32Const(0).i32Load(L.cells + 4 * CELL.segN).localSet(V.n);
    c.i32Const(0).i32Load(L.cells + 4 * CELL.callPc).localSet(V.callPc);
  };
  const leave = (pc: Emit): void => {
    flagsOut();
    workOut();
    pc(c);
    c.return();
  };
  /**
   * Every LM pointer's write delay counted down by one (state.ts tickDelays), the four
   * delay bytes as one word: each nonzero byte less one, which for bytes below 8 is the
   * word less the low bit of each byte's (b | b >> 1 | b >> 2); dl nonzero while any is
   * still pending.
   */
  const tickDelays = (): void => {
    c.i32Const(0).i32Load(L.lmDelay).localSet(V.dl);
    c.localGet(V.dl)
      .localGet(V.dl).localGet(V.dl).i32Const(1).i32ShrU().i32Or().localGet(V.dl).i32Const(2).i32ShrU().i32Or()
      .i32Const(0x01010101).i32And().i32Sub().localSet(V.dl);
    c.i32Const(0).localGet(V.dl).i32Store(L.lmDelay);
  };
  const f64Bump = (at: number, by: Emit = (x) => x.f64Const(1)): void => {
    c.i32Const(0).i32Const(0).f64Load(at);
    by(c);
    c.f64Add().f64Store(at);
  };
  /** `by` added to the f64 of the calling branch (V.callPc) in the per-PC array at `at`. */
  const bumpAtCallPc = (at: number, by: number): void => {
    c.localGet(V.callPc).i32Const(3).i32Shl().localGet(V.callPc).i32Const(3).i32Shl().f64Load(at).f64Const(by).f64Add().f64Store(at);
  };
  /** The thread swaps out for `sleep` cycles: the compute so far is a segment, the sleep the next (the area moved out first when full). */
  const swap = (sleep: number): void => {
    whenTrue((x) => x.localGet(V.n).i32Const(L.segCapacity - 2).i32GtS(), () => {
      workOut();
      c.call(FN_SPILL);
      workIn();
    });
    c.localGet(V.n).i32Const(3).i32Shl().localGet(V.cur).f64Store(L.segs);
    c.localGet(V.n).i32Const(3).i32Shl().f64Const(sleep).f64Store(L.segs + 8);
    c.localGet(V.n).i32Const(2).i32Add().localSet(V.n);
    c.f64Const(0).localSet(V.cur);
    c.localGet(V.sleep).f64Const(sleep).f64Add().localSet(V.sleep);
  };

  // ---- Operands.
  const gprAt = (bank: 'a' | 'b', n: number): number => L.gprs + 4 * (bank === 'a' ? n : 32 + n);
  const lmWordAt = (index: number, off: number): void => {
    c.i32Const(0).i32Load(L.lmAddr + 4 * index).i32Const(0xffc).i32And().i32Const(off * 4).i32Or();
  };
  const src = (op: Src): void => {
    switch (op.k) {
      case 'gpr': c.i32Const(0).i32Load(gprAt(op.bank === 'a' ? 'a' : 'b', op.n)); return;
      case 'xfer': c.i32Const(0).i32Load(L.xferIn + 4 * op.n); return;
      case 'imm': c.i32Const(op.value); return;
      case 'lm': lmWordAt(op.index, op.off); c.i32Load(L.lm); return;
    }
  };
  /** Write local `from` to a destination. */
  const dst = (op: Dst, from: number): void => {
    switch (op.k) {
      case 'gpr':
        if (op.bank !== 'b') c.i32Const(0).localGet(from).i32Store(gprAt('a', op.n));
        if (op.bank !== 'a') c.i32Const(0).localGet(from).i32Store(gprAt('b', op.n));
        return;
      case 'xfer': c.i32Const(0).localGet(from).i32Store(L.xferOut + 4 * op.n); return;
      case 'lm': lmWordAt(op.index, op.off); c.localGet(from).i32Store(L.lm); return;
      case 'none': return;
    }
  };

  // ---- Instructions.
  /** Signed overflow of the i64 in local s as a 32-bit result, onto the stack. */
  const overflowOfS = (): void => {
    c.localGet(V.s).i64Const(0x7fffffff).i64GtS().localGet(V.s).i64Const(-0x80000000).i64LtS().i32Or();
  };
  const alu = (i: AluInsn, keep: Keep): void => {
    const [lo, ro] = logicalOperands(i);
    src(lo);
    c.localSet(V.l);
    src(ro);
    c.localSet(V.r);
    const u = (loc: number) => c.localGet(loc).i64ExtendI32U();
    const sx = (loc: number) => c.localGet(loc).i64ExtendI32S();
    // v, then (keep.flags) c into V.k and o into V.x.
    const logic = (value: Emit) => {
      value(c);
      c.localSet(V.v);
      if (keep.flags) c.i32Const(0).localSet(V.k).i32Const(0).localSet(V.x);
    };
    switch (i.op) {
      case 'none': logic((x) => x.localGet(V.r)); break;
      case 'not': logic((x) => x.localGet(V.r).i32Const(-1).i32Xor()); break;
      case 'and': logic((x) => x.localGet(V.l).localGet(V.r).i32And()); break;
      case 'and_not_a': logic((x) => x.localGet(V.l).i32Const(-1).i32Xor().localGet(V.r).i32And()); break;
      case 'and_not_b': logic((x) => x.localGet(V.l).localGet(V.r).i32Const(-1).i32Xor().i32And()); break;
      case 'or': logic((x) => x.localGet(V.l).localGet(V.r).i32Or()); break;
      case 'xor': logic((x) => x.localGet(V.l).localGet(V.r).i32Xor()); break;
      case 'add_2b':
        c.localGet(V.l).i32Const(0xffff).i32And().localGet(V.r).i32Const(0xffff).i32And().i32Add().localSet(V.a);
        c.localGet(V.a).i32Const(0xffff).i32And().localSet(V.v);
        if (keep.flags) c.localGet(V.a).i32Const(0xffff).i32GtU().localSet(V.k).i32Const(0).localSet(V.x);
        break;
      case 'add': case 'add_c': case 'sub': case 'sub_c': {
        const plus = i.op === 'add' || i.op === 'add_c';
        // The carry in: add_c adds C, sub_c subtracts !C (read before the flags are written).
        const carryIn = (): void => {
          if (i.op === 'add_c') c.localGet(V.fc).i64ExtendI32U();
          else c.localGet(V.fc).i32Eqz().i64ExtendI32U();
        };
        const withCarry = i.op === 'add_c' || i.op === 'sub_c';
        /** l ± r (± the carry) as an i64, the operands widened by `widen` (unsigned for the carry out, signed for overflow). */
        const sum = (widen: (loc: number) => unknown): void => {
          widen(V.l);
          widen(V.r);
          if (plus) c.i64Add(); else c.i64Sub();
          if (withCarry) {
            carryIn();
            if (plus) c.i64Add(); else c.i64Sub();
          }
        };
        sum(u);
        c.localSet(V.t);
        c.localGet(V.t).i32WrapI64().localSet(V.v);
        if (keep.flags) {
          if (plus) c.localGet(V.t).i64Const(0xffffffff).i64GtS();
          else c.localGet(V.t).i64Const(0).i64GeS();
          c.localSet(V.k);
          sum(sx);
          c.localSet(V.s);
          overflowOfS();
          c.localSet(V.x);
        }
        break;
      }
    }
    if (keep.flags) {
      c.localGet(V.v).i32Eqz().localSet(V.fz);
      c.localGet(V.v).i32Const(31).i32ShrU().localSet(V.fn);
      c.localGet(V.k).localSet(V.fc);
      c.localGet(V.x).localSet(V.fv);
    }
    if (keep.prevA) c.localGet(i.swap ? V.r : V.l).localSet(V.pA);
    if (keep.prevResult) c.localGet(V.v).localSet(V.pR);
    dst(i.dst, V.v);
  };
  /** The shifter on locals l and r by a fixed amount, onto the stack (shifter.ts `shift`); `ashr` fills from pR's sign. */
  const shifted = (sc: ShiftClass, n: number, ashr: boolean, lZero = false): void => {
    switch (sc) {
      case 'rot': {
        const k = n & 31;
        c.localGet(V.r);
        if (k !== 0) c.i32Const(k).i32Rotr();
        return;
      }
      case 'shr':
        c.localGet(V.r);
        if (n === 0) return;
        c.i32Const(n).i32ShrU();
        if (ashr) c.i32Const(~0 << (32 - n)).i32Const(0).localGet(V.pR).i32Const(31).i32ShrU().localSet(V.x).localGet(V.x).select().i32Or();
        return;
      case 'shl':
        c.localGet(V.r);
        if (n !== 0) c.i32Const(n).i32Shl();
        return;
      case 'dshr':
        if (n === 0) { c.localGet(V.r); return; }
        if (n === 32) { if (lZero) c.i32Const(0); else c.localGet(V.l); return; }
        if (lZero) c.i32Const(0); else c.localGet(V.l).i32Const(32 - n).i32Shl();
        c.localGet(V.r).i32Const(n).i32ShrU().i32Or();
        return;
    }
  };
  /** The shifter by the previous A operand's low five bits (alu-shf.ts), double shift aside. */
  const shiftedIndirect = (sc: Exclude<ShiftClass, 'dshr'>, ashr: boolean): void => {
    c.localGet(V.pA).i32Const(31).i32And().localSet(V.k);
    switch (sc) {
      case 'rot': c.localGet(V.r).localGet(V.k).i32Rotr(); return;
      case 'shl': c.localGet(V.r).localGet(V.k).i32Shl(); return;
      case 'shr':
        // r >>> k, with ASHR's fill of the top k bits when pR is negative (none for k = 0).
        c.localGet(V.r).localGet(V.k).i32ShrU();
        if (ashr) {
          c.i32Const(-1).i32Const(32).localGet(V.k).i32Sub().i32Shl()
            .i32Const(0)
            .localGet(V.pR).i32Const(31).i32ShrU().localGet(V.k).i32Eqz().i32Eqz().i32And()
            .select().i32Or();
        }
        return;
    }
  };
  const aluShf = (i: AluShfInsn): void => {
    const [lo, ro] = logicalOperands(i);
    src(lo);
    c.localSet(V.l);
    src(ro);
    c.localSet(V.r);
    if (i.shift === 'indirect') shiftedIndirect(i.sc as Exclude<ShiftClass, 'dshr'>, i.op === 'ashr');
    else shifted(i.sc, i.shift, i.op === 'ashr');
    if (i.op === 'and') c.localGet(V.l).i32And();
    else if (i.op === 'or') c.localGet(V.l).i32Or();
    c.localSet(V.v);
    dst(i.dst, V.v);
  };
  const ldField = (i: LdFieldInsn): void => {
    const [lo, ro] = logicalOperands(i);
    const mask = byteMaskBits(i.byteMask);
    src(lo);
    c.localSet(V.l);
    src(ro);
    c.localSet(V.r);
    shifted(i.sc, i.shift, false, true);
    c.i32Const(mask).i32And();
    if (!i.zero) c.localGet(V.l).i32Const(~mask).i32And().i32Or();
    c.localSet(V.v);
    const into: Dst = lo.k === 'gpr' && i.wrBoth ? { k: 'gpr', bank: 'ab', n: lo.n } : (lo as Dst);
    dst(into, V.v);
  };
  /** immed's value merged into the value on the stack (immed.ts `merged`), left on the stack. */
  const merged = (i: ImmedInsn, old: Emit | undefined): void => {
    const sh = 8 * i.shift;
    if (i.width === 'all') {
      c.i32Const(i.invert ? ~(i.value << sh) : i.value << sh);
      return;
    }
    const field = i.width === 'word' ? 0xffff : 0xff;
    const v = (i.invert ? ~i.value & field : i.value & field) << sh;
    if (old) old(c); else c.i32Const(0);
    c.i32Const(~(field << sh)).i32And().i32Const(v).i32Or();
  };
  const immed = (i: ImmedInsn, keep: Keep): void => {
    const d = i.dst;
    if (i.width !== 'all' && d.k === 'gpr' && d.bank === 'ab') {
      merged(i, (x) => x.i32Const(0).i32Load(gprAt('a', d.n)));
      c.localSet(V.v);
      merged(i, (x) => x.i32Const(0).i32Load(gprAt('b', d.n)));
      c.localSet(V.x);
      c.i32Const(0).localGet(V.x).i32Store(gprAt('b', d.n));
      c.i32Const(0).localGet(V.v).i32Store(gprAt('a', d.n));
      if (keep.prevResult) c.localGet(V.v).localSet(V.pR);
      return;
    }
    const old: Emit | undefined = i.width === 'all' ? undefined
      : d.k === 'gpr' ? (x) => x.i32Const(0).i32Load(gprAt(d.bank === 'b' ? 'b' : 'a', d.n))
        : d.k === 'xfer' ? (x) => x.i32Const(0).i32Load(L.xferOut + 4 * d.n)
          : d.k === 'lm' ? () => src({ k: 'lm', index: d.index, off: d.off, post: 'none' }) : undefined;
    merged(i, old);
    c.localSet(V.v);
    if (keep.prevResult) c.localGet(V.v).localSet(V.pR);
    dst(d, V.v);
  };
  const COND: Readonly<Record<BrInsn['cond'], Emit>> = {
    eq: (x) => x.localGet(V.fz), ne: (x) => x.localGet(V.fz).i32Eqz(), mi: (x) => x.localGet(V.fn), pl: (x) => x.localGet(V.fn).i32Eqz(),
    hs: (x) => x.localGet(V.fc), lo: (x) => x.localGet(V.fc).i32Eqz(), vs: (x) => x.localGet(V.fv), vc: (x) => x.localGet(V.fv).i32Eqz(),
    ge: (x) => x.localGet(V.fn).localGet(V.fv).i32Eq(), lt: (x) => x.localGet(V.fn).localGet(V.fv).i32Ne(), always: (x) => x.i32Const(1),
  };
  const branch = (i: BrInsn | BrByteInsn | BrBitInsn): void => {
    if (i.cls === 'br') COND[i.cond](c);
    else if (i.cls === 'br_byte') {
      src(i.src);
      c.i32Const(8 * i.byte).i32ShrU().i32Const(0xff).i32And().i32Const(i.value).i32Eq();
      if (!i.equal) c.i32Eqz();
    } else {
      src(i.src);
      c.i32Const(i.bit).i32ShrU().i32Const(1).i32And();
      if (!i.set) c.i32Eqz();
    }
    c.localSet(V.taken).i32Const(i.target).localSet(V.target);
  };
  const localCsr = (i: LocalCsrInsn): boolean => {
    const lm = CSR_LM_INDEX[i.csr];
    if (!i.write || lm === undefined || !CSR_WRITABLE[i.csr] || i.src.k === 'lm') return false;
    c.i32Const(0);
    src(i.src);
    c.i32Const(0xffc).i32And().i32Store(L.lmAddr + 4 * lm);
    c.i32Const(0).i32Const(LM_ADDR_WRITE_LATENCY + 1).i32Store8(L.lmDelay + lm);
    c.i32Const(1).localSet(V.dl);
    return true;
  };
  /** A 32-bit word at local a + off in a memory, in the command's byte order, onto the stack. */
  const load32 = (base: number, off: number, le: boolean): void => {
    c.localGet(V.a).i32Load(base + off);
    if (!le) bswap();
  };
  const store32 = (base: number, off: number, le: boolean, value: Emit): void => {
    c.localGet(V.a);
    value(c);
    if (!le) bswap();
    c.i32Store(base + off);
  };
  /** Byte-swap the i32 on the stack (through local x). */
  const bswap = (): void => {
    c.localSet(V.x)
      .localGet(V.x).i32Const(24).i32ShrU()
      .localGet(V.x).i32Const(8).i32ShrU().i32Const(0xff00).i32And().i32Or()
      .localGet(V.x).i32Const(8).i32Shl().i32Const(0xff0000).i32And().i32Or()
      .localGet(V.x).i32Const(24).i32Shl().i32Or();
  };
  /** A fixed-length command to CTM or EMEM (compile.ts `command`); false for other forms (interpreted). */
  const command = (pc: number, i: CmdInsn): boolean => {
    if (i.indirect || i.mode !== 'addr32' || postModified([i.a, i.b])) return false;
    const regs = xferWords(i.action, i.length);
    if (i.xfer + regs > XFER_COUNT) return false;
    if (i.target !== 'ctm' && i.target !== 'emem') return false;
    const base = i.target === 'ctm' ? L.ctm : L.emem;
    const bytes = i.target === 'ctm' ? L.ctmBytes : L.ememBytes;
    const le = i.byteSwap;
    const size = i.action === 'read8' || i.action === 'write8' ? i.length : 4 * regs;
    const x0 = i.xfer;
    const n = i.length;
    const lane = (j: number) => (le ? 8 * (j & 3) : 24 - 8 * (j & 3));
    src(i.a);
    src(i.b);
    c.i32Add().localSet(V.a);
    // Out of the region: the interpreter raises the memory error.
    c.localGet(V.a).i64ExtendI32U().i64Const(size).i64Add().i64Const(bytes).i64GtS();
    c.if();
    depth++;
    interpret(pc, i);
    c.else();
    (() => {
      const xin = (k: number) => L.xferIn + 4 * k;
      const xout = (k: number): Emit => (x) => x.i32Const(0).i32Load(L.xferOut + 4 * k);
      switch (i.action) {
        case 'read32':
          for (let k = 0; k < n; k++) {
            c.i32Const(0);
            load32(base, 4 * k, le);
            c.i32Store(xin(x0 + k));
          }
          break;
        case 'write32':
          for (let k = 0; k < n; k++) store32(base, 4 * k, le, xout(x0 + k));
          break;
        case 'read8':
          for (let k = 0; k < Math.ceil(n / 4); k++) c.i32Const(0).i32Const(0).i32Store(xin(x0 + k));
          for (let j = 0; j < n; j++) {
            c.i32Const(0).i32Const(0).i32Load(xin(x0 + (j >> 2)));
            c.localGet(V.a).i32Load8U(base + j).i32Const(lane(j)).i32Shl().i32Or();
            c.i32Store(xin(x0 + (j >> 2)));
          }
          break;
        case 'write8':
          for (let j = 0; j < n; j++) {
            c.localGet(V.a).i32Const(0).i32Load(L.xferOut + 4 * (x0 + (j >> 2))).i32Const(lane(j)).i32ShrU().i32Store8(base + j);
          }
          break;
        case 'add32':
          for (let k = 0; k < n; k++) {
            store32(base, 4 * k, le, (x) => {
              load32(base, 4 * k, le);
              xout(x0 + k)(x);
              x.i32Add();
            });
          }
          break;
        case 'add64':
          for (let k = 0; k < n; k++) {
            // Low word first in memory when little-endian, high word first when big-endian.
            const lo = 8 * k + (le ? 0 : 4);
            const hi = 8 * k + (le ? 4 : 0);
            load32(base, lo, le);
            c.i64ExtendI32U();
            xout(x0 + 2 * k)(c);
            c.i64ExtendI32U().i64Add().localSet(V.t);
            store32(base, lo, le, (x) => x.localGet(V.t).i32WrapI64());
            store32(base, hi, le, (x) => {
              load32(base, hi, le);
              xout(x0 + 2 * k + 1)(x);
              x.i32Add().localGet(V.t).i64Const(0xffffffff).i64GtS().i32Add();
            });
          }
          break;
      }
    })();
    depth--;
    c.end();
    return true;
  };
  /** The interpreter runs the instruction at pc (flags in step with it); a branch outcome it gives is taken on. */
  const interpret = (pc: number, i: Insn): void => {
    // The work too: when the interpreter raises the instruction's error, the run ends with the work as it stands.
    flagsOut();
    workOut();
    c.i32Const(pc).call(FN_INTERP).localSet(V.k);
    flagsIn();
    if (i.cls === 'local_csr') c.i32Const(1).localSet(V.dl);
    // A branch outcome: (target << 1) | taken.
    c.localGet(V.k).i32Const(0).i32GeS();
    nest(() => c.if(), () => {
      c.localGet(V.k).i32Const(1).i32And().localSet(V.taken);
      c.localGet(V.k).i32Const(1).i32ShrU().localSet(V.target);
    });
  };
  /** The instruction's own code, or false when it runs interpreted. */
  const fast = (pc: number, i: Insn, keep: Keep): boolean => {
    switch (i.cls) {
      case 'alu': if (postModified([i.a, i.b, i.dst])) return false; alu(i, keep); return true;
      case 'alu_shf': if ((i.shift === 'indirect' && i.sc === 'dshr') || postModified([i.a, i.b, i.dst])) return false; aluShf(i); return true;
      case 'ld_field': {
        const [lo] = logicalOperands(i);
        if (lo.k === 'imm' || postModified([i.a, i.b])) return false;
        ldField(i);
        return true;
      }
      case 'immed': if (i.dst.k === 'lm' && i.dst.post !== 'none') return false; immed(i, keep); return true;
      case 'br': branch(i); return true;
      case 'br_byte': case 'br_bit': if (postModified([i.src])) return false; branch(i); return true;
      case 'cmd': return command(pc, i);
      case 'local_csr': return localCsr(i);
      default: return false;
    }
  };
  /** An instruction: written out, behind a check of its LM pointers' write delays (the interpreter raises that error). */
  const insn = (pc: number, i: Insn, keep: Keep): void => {
    if (i.cls === 'br_alu') {
      interpret(pc, i);
      return;
    }
    const lms = lmUses(operandsOf(i));
    if (lms.length === 0) {
      // Written out, or (false: nothing written yet) interpreted.
      if (!fast(pc, i, keep)) interpret(pc, i);
      return;
    }
    lms.forEach((n, k) => {
      c.i32Const(0).i32Load8U(L.lmDelay + n);
      if (k > 0) c.i32Or();
    });
    c.if();
    depth++;
    interpret(pc, i);
    c.else();
    if (!fast(pc, i, keep)) interpret(pc, i);
    depth--;
    c.end();
  };

  /** The lookup in WebAssembly when every check passes (branches to the loop); otherwise falls through to the call out. */
  const nativeLookup = (n: NativeLookup): void => {
    // k: the table id; a: the key's LM address; x: the return address.
    c.i32Const(0).i32Load(gprAt('a', 0)).localSet(V.k);
    for (const m of n.arrays) {
      whenTrue((x) => {
        x.localGet(V.k).i32Const(m.table).i32Eq();
        routineChecks(n.keyPointer, 4, n.returnGpr, n.maxTarget);
        x.i32And();
      }, () => {
        c.i32Const(0).i32Load(gprAt('b', n.returnGpr)).localSet(V.x);
        // The price, charged to the branch that called.
        c.localGet(V.cur).f64Const(m.cycles).f64Add().localSet(V.cur);
        c.localGet(V.compute).f64Const(m.cycles).f64Add().localSet(V.compute);
        bumpAtCallPc(L.pcCycles, m.cycles);
        // The value's address, or 0 past the array's end.
        c.i32Const(0).i32Load(L.lmAddr + 4 * n.keyPointer).i32Load(L.lm).localSet(V.a);
        c.localGet(V.a).i32Const(m.stride).i32Mul().i32Const(m.base).i32Add().i32Const(0).localGet(V.a).i32Const(m.maxEntries).i32LtU().select().localSet(V.v);
        returnR0();
      });
    }
  };
  /**
   * Onto the stack, whether a lookup routine's own checks pass (routines.ts lmAt and the
   * executor's return check): the key pointer out of its write delay, its `keySize` bytes
   * inside LM, the return address inside the code. A lookup that fails one goes the
   * JavaScript way, which raises the error.
   */
  const routineChecks = (keyPointer: number, keySize: number, returnGpr: number, maxTarget: number): void => {
    c.i32Const(0).i32Load8U(L.lmDelay + keyPointer).i32Eqz()
      .i32Const(0).i32Load(L.lmAddr + 4 * keyPointer).i32Const(keySize).i32Add().i32Const(LM_BYTES).i32LeU().i32And()
      .i32Const(0).i32Load(gprAt('b', returnGpr)).i32Const(maxTarget).i32LeU().i32And();
  };
  /** A lookup's end: r0 the value's address in local v or 0 (both banks, high word 0), then on at the return address in local x. */
  const returnR0 = (): void => {
    dst({ k: 'gpr', bank: 'ab', n: 0 }, V.v);
    c.i32Const(0).localSet(V.v);
    dst({ k: 'gpr', bank: 'ab', n: 1 }, V.v);
    c.localGet(V.x).localSet(V.pc).br(toLoop());
  };

  /** key-index.ts hashBytes of the `len` LM bytes from local a, into local h. */
  const hashKey = (len: number): void => {
    c.i32Const(len).localSet(V.h);
    const words = Math.floor(len / 4);
    for (let k = 0; k < words; k++) {
      c.localGet(V.a).i32Load(L.lm + 4 * k).i32Const(0xcc9e2d51).i32Mul().localSet(V.w);
      c.localGet(V.h).localGet(V.w).i32Const(15).i32Rotl().i32Const(0x1b873593).i32Mul().i32Xor().localSet(V.h);
      c.localGet(V.h).i32Const(13).i32Rotl().i32Const(5).i32Mul().i32Const(0xe6546b64).i32Add().localSet(V.h);
    }
    // The tail's bytes, last first, then the finish.
    c.i32Const(0).localSet(V.w);
    for (let j = len - 1; j >= 4 * words; j--) c.localGet(V.w).i32Const(8).i32Shl().localGet(V.a).i32Load8U(L.lm + j).i32Or().localSet(V.w);
    c.localGet(V.h).localGet(V.w).i32Const(0x9e3779b1).i32Mul().i32Xor().localSet(V.h);
    c.localGet(V.h).localGet(V.h).i32Const(16).i32ShrU().i32Xor().i32Const(0x85ebca6b).i32Mul().localSet(V.h);
    c.localGet(V.h).localGet(V.h).i32Const(13).i32ShrU().i32Xor().i32Const(0xc2b2ae35).i32Mul().localSet(V.h);
    c.localGet(V.h).localGet(V.h).i32Const(16).i32ShrU().i32Xor().localSet(V.h);
  };
  /**
   * A HASH lookup the module runs itself when the routine's checks pass (NativeHash):
   * the key found by probing from its hash, r0 its value's EMEM address or 0, then on at
   * the return address; otherwise it falls through to the call out.
   */
  const hashLookup = (n: NativeHash): void => {
    whenTrue(() => routineChecks(n.keyPointer, n.keySize, n.returnGpr, n.maxTarget), () => {
      c.i32Const(0).i32Load(gprAt('b', n.returnGpr)).localSet(V.x);
      c.i32Const(0).i32Load(L.lmAddr + 4 * n.keyPointer).localSet(V.a);
      hashKey(n.keySize);
      // Probe: e is the entry (slot + 1; 0 empty, −1 deleted), v the result.
      c.localGet(V.h).i32Const(n.mask).i32And().localSet(V.i);
      c.i32Const(0).localSet(V.v);
      c.block();
      c.loop();
      c.localGet(V.i).i32Const(2).i32Shl().i32Load(n.table).localSet(V.e);
      c.localGet(V.e).i32Eqz().brIf(1);
      c.localGet(V.e).i32Const(-1).i32Ne().if();
      // w: where the slot's key lies (past the table, in the memory).
      c.localGet(V.e).i32Const(1).i32Sub().i32Const(n.keySize).i32Mul().localSet(V.w);
      const words = Math.floor(n.keySize / 4);
      c.i32Const(1);
      for (let k = 0; k < words; k++) c.localGet(V.a).i32Load(L.lm + 4 * k).localGet(V.w).i32Load(n.keys + 4 * k).i32Eq().i32And();
      for (let j = 4 * words; j < n.keySize; j++) c.localGet(V.a).i32Load8U(L.lm + j).localGet(V.w).i32Load8U(n.keys + j).i32Eq().i32And();
      c.if();
      c.localGet(V.e).i32Const(1).i32Sub().i32Const(n.stride).i32Mul().i32Const(n.base).i32Add().localSet(V.v);
      c.br(3);
      c.end();
      c.end();
      c.localGet(V.i).i32Const(1).i32Add().i32Const(n.mask).i32And().localSet(V.i);
      c.br(0);
      c.end();
      c.end();
      returnR0();
    });
  };
  /**
   * The calls on `address` the module prices (PricedCall), by the table id in gprA_0: the
   * price charged as the meter charges it (packet-meter.ts firmwareCall), then the routine
   * called out (branches to the loop); another table falls through to the call out.
   */
  const pricedCalls = (calls: readonly PricedCall[]): void => {
    for (const { price } of calls) {
      if (price.map >= L.lockMaps) throw new RangeError(`compile-wasm: map ${price.map} beyond the card memory's ${L.lockMaps} lock counts`);
    }
    c.i32Const(0).i32Load(gprAt('a', 0)).localSet(V.k);
    for (const { table, price: p, hash } of calls) {
      whenTrue((x) => x.localGet(V.k).i32Const(table).i32Eq(), () => {
        c.localGet(V.cur).f64Const(p.cycles).f64Add().localSet(V.cur);
        c.localGet(V.compute).f64Const(p.cycles).f64Add().localSet(V.compute);
        bumpAtCallPc(L.pcCycles, p.cycles);
        f64Bump(L.commands + 8 * p.memory, (x) => x.f64Const(p.reads + p.writes));
        for (let k = 0; k < p.reads + p.writes; k++) {
          const sleep = k < p.reads ? p.readSleep : p.writeSleep;
          swap(sleep);
          bumpAtCallPc(L.pcSleep, sleep);
        }
        if (p.lockCycles !== 0) f64Bump(L.locks + 8 * p.map, (x) => x.f64Const(p.lockCycles));
        if (hash !== undefined) hashLookup(hash);
        // Should the routine fail, the run ends with the price charged and the state as it stands.
        flagsOut();
        workOut();
        c.localGet(V.pc).call(FN_FW_ROUTINE).localSet(V.pc);
        c.br(toLoop());
      });
    }
  };

  // ---- The dispatch: a firmware routine, the end, or a block through the branch table.
  const starts: number[] = [];

  // Prologue: the packet's entry state (when asked), state in, the PC at the start.
  const e = o.entry;
  if (e !== undefined) {
    c.localGet(LEN).i32Const(0).i32GeS().if();
    if (e.clearHeadroom) c.i32Const(L.ctm).i32Const(0).i32Const(e.packetStart).memoryFill();
    // CTM from the packet's end to where the last one reached, then that mark moved to this packet's end.
    c.i32Const(e.packetStart).localGet(LEN).i32Add().localSet(V.a);
    c.i32Const(0).i32Load(e.dirtyCell).localSet(V.x);
    c.localGet(V.x).localGet(V.a).i32GtS().if()
      .i32Const(L.ctm).localGet(V.a).i32Add().i32Const(0).localGet(V.x).localGet(V.a).i32Sub().memoryFill()
      .end();
    c.i32Const(0).localGet(V.a).i32Store(e.dirtyCell);
    c.i32Const(L.gprs).i32Const(0).i32Const(8 * 32).memoryFill();
    c.i32Const(L.lm).i32Const(0).i32Const(e.stackBytes).memoryFill();
    c.i32Const(0).i32Const(0).i32Store(L.lmDelay);
    for (const g of e.gprs) {
      for (const bank of ['a', 'b'] as const) {
        c.i32Const(0);
        if (g.value === 'length') c.localGet(LEN); else c.i32Const(g.value);
        c.i32Store(gprAt(bank, g.n));
      }
    }
    c.end();
  }
  flagsIn();
  workIn();
  c.i32Const(o.startPc).localSet(V.pc);
  c.i32Const(0).i32Load(L.lmDelay).localSet(V.dl);

  // A first walk finds the blocks: the branch table's targets, in PC order.
  walkTimed(program, o, {
    blockStart: (pc) => starts.push(pc), dispatchFrom: () => {}, insn: () => {}, tick: () => {}, command: () => {}, stretch: () => {},
    chargeIfTaken: () => {}, takeBranch: () => {}, jump: () => {},
  });
  const blockIndex = new Map(starts.map((pc, k) => [pc, k]));
  const B = starts.length;

  c.loop();
  depth = 0;
  // Firmware routines.
  const floor = firmwareFloor(o.firmware);
  if (Number.isFinite(floor)) {
    whenTrue((x) => x.localGet(V.pc).i32Const(floor).i32GeU(), () => {
      for (const addr of o.firmware.keys()) {
        whenTrue((x) => x.localGet(V.pc).i32Const(addr).i32Eq(), () => {
          if (o.lookup?.address === addr) nativeLookup(o.lookup);
          const priced = (o.priced ?? []).filter((p) => p.address === addr);
          if (priced.length > 0) pricedCalls(priced);
          flagsOut();
          workOut();
          c.localGet(V.pc).call(FN_FW).localSet(V.pc);
          flagsIn();
          workIn();
          c.br(toLoop());
        });
      }
    });
  }
  whenTrue((x) => x.localGet(V.pc).i32Const(o.endPc).i32Eq(), () => leave((x) => x.i32Const(-1)));
  whenTrue((x) => x.localGet(V.pc).i32Const(-1).i32Eq(), () => {
    workOut();
    c.i32Const(-1).return();
  });
  // block $default, then a block per program block, innermost first.
  c.block();
  for (let k = 0; k < B; k++) c.block();
  const table = Array.from({ length: program.length + 1 }, (_, pc) => blockIndex.get(pc) ?? B);
  c.localGet(V.pc).brTable(table, B);
  // Before the first block's end: inside every block, the default and the loop.
  depth = B + 1;

  let blockNo = -1;
  const stepsCheck = (pc: number, n: number): void => {
    c.localGet(V.steps).f64Const(n).f64Add().localSet(V.steps);
    whenTrue((x) => x.localGet(V.steps).f64Const(o.stepLimit).f64Gt(), () => {
      c.localGet(V.steps).f64Const(n).f64Sub().localSet(V.steps);
      leave((x) => x.i32Const(pc));
    });
  };
  const goTo = (target: Emit): void => {
    target(c);
    c.localSet(V.pc).br(toLoop());
  };
  const charge = (j: number, cycles: number): void => {
    c.localGet(V.cur).f64Const(cycles).f64Add().localSet(V.cur);
    c.localGet(V.compute).f64Const(cycles).f64Add().localSet(V.compute);
    f64Bump(L.taken + 8 * j);
  };
  const plan = walkTimed(program, o, {
    blockStart: (pc, n) => {
      blockNo++;
      if (starts[blockNo] !== pc) throw new Error(`compile-wasm: block ${blockNo} starts at ${pc}, the first walk said ${starts[blockNo]}`);
      c.end();
      depth = B - blockNo;
      stepsCheck(pc, n);
    },
    dispatchFrom: (pc) => goTo((x) => x.i32Const(pc)),
    insn: (pc, i, keep) => insn(pc, i, keep),
    tick: () => {
      c.localGet(V.dl);
      nest(() => c.if(), tickDelays);
    },
    command: (m) => f64Bump(L.commands + 8 * m),
    stretch: (k, cycles, sleep) => {
      if (k >= L.stretchCapacity) throw new RangeError(`compile-wasm: stretch ${k} beyond the card memory's ${L.stretchCapacity}`);
      if (cycles !== 0) {
        c.localGet(V.cur).f64Const(cycles).f64Add().localSet(V.cur);
        c.localGet(V.compute).f64Const(cycles).f64Add().localSet(V.compute);
      }
      f64Bump(L.stretches + 8 * k);
      if (sleep !== 0) swap(sleep);
    },
    chargeIfTaken: (j, cycles) => {
      c.localGet(V.taken);
      nest(() => c.if(), () => charge(j, cycles));
    },
    takeBranch: (pc, j, cycles) => {
      c.localGet(V.taken);
      nest(() => c.if(), () => {
        if (j !== undefined) charge(j, cycles);
        c.i32Const(pc).localSet(V.callPc);
        goTo((x) => x.localGet(V.target));
      });
    },
    jump: (pc) => goTo((x) => x.i32Const(pc)),
  });
  if (plan.takenSites.length > L.takenCapacity) throw new RangeError(`compile-wasm: ${plan.takenSites.length} taken sites beyond the card memory's ${L.takenCapacity}`);
  // The default: an entry that is not a block's start; the interpreter goes on.
  c.end();
  depth = 1;
  leave((x) => x.localGet(V.pc));
  c.end(); // loop
  c.unreachable();

  const bytes = encodeModule({
    imports: [
      { name: 'fw', type: { params: [I32], results: [I32] } },
      { name: 'interp', type: { params: [I32], results: [I32] } },
      { name: 'spill', type: { params: [], results: [] } },
      { name: 'fwRoutine', type: { params: [I32], results: [I32] } },
    ],
    memoryPages: L.pages,
    functions: [
      { type: { params: [I32], results: [I32] }, code: c, export: 'run' },
    ],
  });
  return { module: new WebAssembly.Module(bytes), plan };
}

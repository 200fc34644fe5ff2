/**
 * The verifier: an abstract interpreter over every path of an XDP program, as
 * the Linux kernel's (kernel/bpf/verifier.c, do_check) walks it. Each path
 * carries register and stack states; conditional jumps split it and refine both
 * sides (scalar bounds, packet ranges proven against data_end, NULL checks);
 * memory accesses, helper calls and bpf-to-bpf calls are checked against the
 * types; states seen before at a prune point end a path that can add nothing
 * (or reveal an infinite loop); a million processed instructions end it all.
 * Registers and stack live in state.ts, pointer-vs-memory rules in
 * mem-checks.ts, the scalar domain in scalar.ts/tnum.ts.
 */
import type { Insn } from '../../xdp/isa/insn.js';
import { slotCount } from '../../xdp/isa/insn.js';
import { kindOf, type InsnKind } from '../../xdp/isa/kind.js';
import { LddwSrc } from '../../xdp/isa/opcodes.js';
import { helperName } from '../../xdp/helpers/helper-names.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import type { MapDef, Program } from '../../xdp/object/bpf-object.js';
import { formatInsn } from '../../xdp/isa/disasm.js';
import { checkCfg, type SlotProgram } from './cfg.js';
import { liveRegisters } from './liveness.js';
import { HELPER_PROTOS, MAP_ONLY_FOR, type ArgType } from './helper-protos.js';
import { newMarks, markWholeFrame, setReg as markReg, setSlot as markSlot, forEachMark, hasReg, hasSlot, type Marks } from './marks.js';
import { checkAlignment, checkCtxUnmodified, checkHelperMem, checkMemAccess, type MemContext, type StackEvents } from './mem-checks.js';
import { tnumText } from './tnum.js';
import { historyEntry, linkEntry, markAllPrecise, markChainPrecision } from './precision.js';
import { statesEqual } from './prune.js';
import { markSlotRead, propagateReads } from './read-marks.js';
import {
  NOT_INIT, constReg, isPacket, isPointer, maybeNull, pointerReg, regToString, scalarReg, typeName, unknownReg, type RegState,
} from './reg-state.js';
import {
  branchTaken, constValue, isConst, refineBranch, scalarAlu, scalarEndian, scalarFromLoad, scalarWithin, signExtend,
  S64_MIN, unknownScalar, type AluOp, type CmpOp, type Scalar,
} from './scalar.js';
import {
  MAX_BPF_STACK, Slot, cloneState, curFrame, initialState, mapAllRegs, newFrame, ownStack, SLOTS, type FuncState, type VerifierState,
} from './state.js';
import { VerifyError } from './verify-error.js';

export interface VerifyOptions {
  /** Verify as a privileged loader (root: CAP_SYS_ADMIN + CAP_PERFMON), the default, or as CAP_BPF only. */
  privileged?: boolean;
  /** 0: no log; 1: instructions walked, and the error; 2: register states after every instruction. */
  logLevel?: 0 | 1 | 2;
  /** The object's license allows GPL-only helpers (default true). */
  gplCompatible?: boolean;
  /** Processed-instruction limit (the kernel's BPF_COMPLEXITY_LIMIT_INSNS, 1,000,000). */
  complexityLimit?: number;
  /** Expected attach type (XDP, XDP_DEVMAP, XDP_CPUMAP): only devmap programs may read egress_ifindex. Default: the program's section's. */
  attach?: string;
  /** Verify for a device, as the kernel does a program bound to one: rx_queue_index becomes writable. */
  offloaded?: boolean;
  /**
   * Called with every instruction about to be processed and the path's state then (as the kernel
   * calls a device's verifier hook, bpf_prog_offload_verify_insn); for the offload rules.
   */
  observe?: (slot: number, state: VerifierState) => void;
}

export interface VerifyResult {
  ok: boolean;
  /** The refusal: the instruction blamed, the message, and whether a path or the structure checks found it. */
  error?: { insn: number; message: string; pass: 'structure' | 'walk' };
  log: string;
  stats: { processed: number; maxStatesPerInsn: number; totalStates: number; peakStates: number };
  timeNs: number;
}

export const COMPLEXITY_LIMIT = 1_000_000;
/** Branches waiting to be walked (the kernel's BPF_COMPLEXITY_LIMIT_JMP_SEQ). */
const MAX_PENDING_BRANCHES = 8192;
/** Offsets a pointer may carry (BPF_MAX_VAR_OFF). */
const MAX_VAR_OFF = 1 << 29;
const MAX_CALL_FRAMES = 8;
const MAX_PACKET_OFF = 0xffff;
const MAX_LOG_BYTES = 16 << 20;

const ALU_OPS: Readonly<Record<string, AluOp>> = {
  add: 'add', sub: 'sub', mul: 'mul', div: 'div', sdiv: 'sdiv', mod: 'mod', smod: 'smod', or: 'or', and: 'and',
  xor: 'xor', lsh: 'lsh', rsh: 'rsh', arsh: 'arsh', neg: 'neg',
};
const OP_TEXT: Readonly<Record<string, string>> = {
  add: '+=', sub: '-=', mul: '*=', div: '/=', sdiv: 's/=', mod: '%=', smod: 's%=', or: '|=', and: '&=', xor: '^=',
  lsh: '<<=', rsh: '>>=', arsh: 's>>=', neg: 'neg', mov: '=', movsx: '=',
};

/**
 * The maps a register's `map` index refers to: the object's, then the inner-map template of each
 * map-in-map (what a lookup in one yields), with `innerOf` from the outer map's index to it.
 */
export function verifierMaps(objectMaps: readonly MapDef[]): { maps: MapDef[]; innerOf: Map<number, number> } {
  const maps = [...objectMaps];
  const innerOf = new Map<number, number>();
  objectMaps.forEach((m, i) => {
    if (m.inner) {
      innerOf.set(i, maps.length);
      maps.push({ ...m.inner, index: maps.length, origin: m.origin, section: m.section });
    }
  });
  return { maps, innerOf };
}

/** The slot-indexed view of a linked program the walk needs. */
function slotProgram(program: Pick<Program, 'insns' | 'slots' | 'funcs'>): SlotProgram {
  const last = program.insns.length - 1;
  const length = last < 0 ? 0 : program.slots[last]! + slotCount(program.insns[last]!);
  const insnAt = new Array<Insn | undefined>(length).fill(undefined);
  const kindAt = new Array<InsnKind | undefined>(length).fill(undefined);
  program.insns.forEach((insn, i) => {
    insnAt[program.slots[i]!] = insn;
    kindAt[program.slots[i]!] = kindOf(insn);
  });
  return {
    length, insnAt, kindAt, funcStarts: [...new Set(program.funcs.map((f) => f.slot))].sort((a, b) => a - b),
    hasFuncInfo: program.funcs.length > 0 && program.funcs.every((f) => f.btfTypeId !== undefined),
  };
}

interface Explored {
  readonly state: VerifierState;
  hits: number;
  misses: number;
}

class Walk {
  readonly p: SlotProgram;
  readonly privileged: boolean;
  readonly logLevel: number;
  readonly gpl: boolean;
  readonly lines: string[] = [];
  logBytes = 0;
  processed = 0;
  jumps = 0;
  jumpsAtLastState = 0;
  processedAtLastState = 0;
  /** States stored now (peak_states is its maximum) and ever (total_states). */
  totalStates = 0;
  statesCreated = 0;
  peakStates = 0;
  curStates = 0;
  maxStatesPerInsn = 0;
  idGen = 0;
  prunePoints: Uint8Array = new Uint8Array(0);
  jmpPoints: Uint8Array = new Uint8Array(0);
  forcePoints: Uint8Array = new Uint8Array(0);
  /** Scratch set for precision backtracking (left empty between uses). */
  readonly bt: Marks = newMarks();
  /** The stack slot the current instruction spilled to or filled from (a history entry records it). */
  access = -1;
  live: Int32Array = new Int32Array(0);
  explored = new Map<number, Explored[]>();

  /** The object's maps, then the inner-map templates of map-in-maps (what a lookup in one yields). */
  readonly maps: readonly MapDef[];
  readonly innerOf: ReadonlyMap<number, number>;

  constructor(readonly program: Pick<Program, 'insns' | 'slots' | 'funcs' | 'lines'>, objectMaps: readonly MapDef[], opts: VerifyOptions) {
    const { maps, innerOf } = verifierMaps(objectMaps);
    this.maps = maps;
    this.innerOf = innerOf;
    this.p = slotProgram(program);
    this.privileged = opts.privileged ?? true;
    this.logLevel = opts.logLevel ?? 0;
    this.gpl = opts.gplCompatible ?? true;
    this.limit = opts.complexityLimit ?? COMPLEXITY_LIMIT;
    this.attach = opts.attach ?? 'XDP';
    this.offloaded = opts.offloaded ?? false;
    this.observe = opts.observe;
  }
  readonly offloaded: boolean;
  readonly observe: VerifyOptions['observe'];
  readonly attach: string;
  readonly limit: number;

  log(line: string): void {
    if (this.logLevel === 0 || this.logBytes > MAX_LOG_BYTES) return;
    this.lines.push(line);
    this.logBytes += line.length + 1;
  }

  mapName = (i: number): string => this.maps[i]?.name ?? `#${i}`;

  regsText(f: FuncState): string {
    const parts: string[] = [];
    f.regs.forEach((r, i) => {
      if (r.type !== 'not_init') parts.push(`R${i}=${regToString(r, this.mapName)}`);
    });
    for (let k = SLOTS - 1; k >= 0; k--) {
      const i = k * 8;
      const sp = f.spills[k];
      if (sp !== undefined && f.kinds[i] === Slot.SPILL) parts.push(`fp${i - MAX_BPF_STACK}=${regToString(sp, this.mapName)}`);
      else if (f.kinds.subarray(i, i + 8).some((b) => b !== Slot.INVALID)) {
        parts.push(`fp${i - MAX_BPF_STACK}=${Array.from(f.kinds.subarray(i, i + 8), (b) => '?mz*'[b]).join('')}`);
      }
    }
    return parts.join(' ');
  }

  run(): void {
    const cfg = checkCfg(this.p);
    this.prunePoints = cfg.prunePoints;
    this.jmpPoints = cfg.jmpPoints;
    this.forcePoints = cfg.forcePoints;
    this.live = liveRegisters(this.p);
    const init = initialState();
    curFrame(init).regs[1] = pointerReg('ctx');
    this.log(`0: R1=ctx() R10=fp0`);
    const work: { insn: number; state: VerifierState }[] = [{ insn: 0, state: init }];
    this.curStates = 1;
    while (work.length > 0) {
      const { insn, state } = work.pop()!;
      this.walkPath(insn, state, work);
    }
  }

  /** The path from `start` until it exits, is pruned, or fails; pushes the other side of every branch. */
  walkPath(start: number, st: VerifierState, work: { insn: number; state: VerifierState }[]): void {
    let pc = start;
    let lastLine: unknown;
    for (;;) {
      if (++this.processed > this.limit) {
        throw new VerifyError(`BPF program is too large. Processed ${this.processed} insn`, pc);
      }
      if (this.prunePoints[pc] && this.visited(pc, st)) {
        this.finishPath(st);
        return;
      }
      const insn = this.p.insnAt[pc]!;
      const k = this.p.kindAt[pc]!;
      if (this.observe) this.observe(pc, st);
      if (this.logLevel > 0) {
        const idx = this.program.slots.indexOf(pc);
        const pos = idx >= 0 ? this.program.lines[idx] : undefined;
        if (pos && pos.line > 0 && pos.line !== lastLine) this.log(`; ${pos.text.trim()} @ ${pos.file.split('/').pop()}:${pos.line}`);
        if (pos) lastLine = pos.line;
        this.log(`${pc}: (${insn.code.toString(16).padStart(2, '0')}) ${formatInsn(insn, k)}`);
      }
      this.access = -1;
      let next: number;
      try {
        next = this.step(pc, insn, k, st, work);
      } catch (e) {
        // A speculative path that would do something unsafe ends here: the kernel puts a barrier
        // (nospec) before the instruction instead of refusing the program.
        if (!st.speculative || !(e instanceof VerifyError) || !e.recoverable) throw e;
        this.log(`${pc}: speculative path ends: ${e.message.split('\n')[0]}`);
        this.finishPath(st);
        return;
      }
      if (this.logLevel > 1) this.log(`${pc}: ${this.regsText(curFrame(st))}`);
      if (next < 0) {
        this.finishPath(st);
        return;
      }
      this.record(st, pc, this.access);
      pc = next;
    }
  }

  finishPath(st: VerifierState): void {
    this.curStates--;
    for (let s = st.parent; s; s = s.parent) {
      if (--s.branches > 0) break;
    }
  }

  /** Misses before a state is dropped: more for open states at forced checkpoints, lest a loop never converge. */
  evictable(e: Explored, pc: number): boolean {
    const n = this.forcePoints[pc] && e.state.branches > 0 ? 64 : 3;
    return e.misses > e.hits * n + n;
  }

  /** Appends an instruction to the path segment's history (precision.ts), with the scalars a branch linked. */
  record(st: VerifierState, pc: number, access: number): void {
    st.hist.push(access < 0 ? historyEntry(pc) : historyEntry(pc, access >> 6, access & 63));
    if (access >= 0 || this.jmpPoints[pc]) st.histJumps++;
    if (st.pendingLinks) {
      for (const l of st.pendingLinks) st.hist.push(linkEntry(l.frame, l.slot, l.index));
      st.pendingLinks = undefined;
    }
  }

  /** Registers live where `st` stands at `pc`: the innermost frame's here, each caller's where it resumes. */
  liveIn(st: VerifierState, pc: number): (frame: number) => number {
    const last = st.frames.length - 1;
    return (frame) => (frame === last ? this.live[pc]! : this.live[st.frames[frame + 1]!.callsite]!);
  }

  /**
   * Is the current state covered by one already explored here (then its precision and read marks
   * carry over to this path)? Otherwise remember it, as often as the kernel would.
   */
  visited(pc: number, st: VerifierState): boolean {
    let list = this.explored.get(pc) ?? [];
    const live = this.liveIn(st, pc);
    const force = st.histJumps > 40 || this.forcePoints[pc] === 1;
    let add = force || (this.jumps - this.jumpsAtLastState >= 2 && this.processed - this.processedAtLastState >= 8);
    let evict = false;
    for (const e of list) {
      if (e.state.branches > 0) {
        // A may_goto loop has converged when another iteration is within one still open: the
        // run-time budget ends it (is_state_visited's may_goto case). Marks of an open state are not
        // final, so this path's checkpoints take every scalar as precise and every slot as read.
        if (this.forcePoints[pc] && e.state.mayGotoDepth !== st.mayGotoDepth &&
          statesEqual(e.state, st, { exact: false, rangeWithin: true, live, privileged: this.privileged })) {
          e.hits++;
          markAllPrecise(st);
          st.frames.forEach((_, fr) => {
            for (let k = 0; k < SLOTS; k++) markSlotRead(st, fr, k);
          });
          return true;
        }
        // Still being explored: the same state again means a loop that never changes anything.
        if (e.state.mayGotoDepth === st.mayGotoDepth && statesEqual(e.state, st, { exact: true, live, privileged: this.privileged })) {
          throw new VerifyError(`infinite loop detected at insn ${pc}`, pc);
        }
        // Inside a loop, keep states less often: iterations differ and rarely prune each other.
        if (!force && this.jumps - this.jumpsAtLastState < 20 && this.processed - this.processedAtLastState < 100) add = false;
      } else if (statesEqual(e.state, st, { exact: false, live, privileged: this.privileged })) {
        e.hits++;
        propagateReads(e.state, st);
        this.propagatePrecision(e.state, st, live);
        return true;
      }
      // A state that keeps failing to prune is dropped from the list, as the kernel drops it
      // (miss_cnt > hit_cnt * 3 + 3, counting misses only when a new state is to be kept).
      if (add) e.misses++;
      if (this.evictable(e, pc)) evict = true;
    }
    this.maxStatesPerInsn = Math.max(this.maxStatesPerInsn, list.length);
    if (evict) {
      const before = list.length;
      list = list.filter((e) => !this.evictable(e, pc));
      this.totalStates -= before - list.length;
      this.explored.set(pc, list);
    }
    if (!add) return false;
    this.jumpsAtLastState = this.jumps;
    this.processedAtLastState = this.processed;
    const saved = cloneState(st);
    saved.hist = st.hist;
    saved.written = st.written;
    saved.branches = 1;
    saved.insn = pc;
    saved.parent = st.parent;
    st.parent = saved;
    st.hist = [];
    st.histJumps = 0;
    st.written = undefined;
    list.unshift({ state: saved, hits: 0, misses: 0 });
    this.explored.set(pc, list);
    this.totalStates++;
    this.statesCreated++;
    this.peakStates = Math.max(this.peakStates, this.totalStates);
    return false;
  }

  /**
   * The next may_goto iteration forgets what no check needed exactly: a scalar that differs from
   * the previous iteration's (open) state at this instruction and is not precise there becomes
   * unknown, so iterations can converge (widen_imprecise_scalars).
   */
  widenImprecise(pc: number, st: VerifierState): void {
    // The checkpoint this iteration just left here is not the previous iteration's.
    const prev = this.explored.get(pc)?.find((e) => e.state.branches > 0 && e.state !== st.parent && e.state.frames.length === st.frames.length &&
      e.state.frames.every((f, i) => f.callsite === st.frames[i]!.callsite))?.state;
    if (!prev) return;
    const differs = (o: RegState, c: RegState) => o.type === 'scalar' && c.type === 'scalar' && !(scalarWithin(o.s, c.s) && scalarWithin(c.s, o.s));
    st.frames.forEach((f, fr) => {
      const old = prev.frames[fr]!;
      for (let r = 0; r < 10; r++) {
        if (!hasReg(prev.precise, fr, r) && differs(old.regs[r]!, f.regs[r]!)) f.regs[r] = unknownReg();
      }
      for (let k = 0; k < SLOTS; k++) {
        const o = old.spills[k];
        const c = f.spills[k];
        if (o && c && f.kinds[k * 8] === Slot.SPILL && !hasSlot(prev.precise, fr, k) && differs(o, c)) {
          ownStack(f);
          f.spills[k] = unknownReg();
        }
      }
    });
  }

  /** Scalars the explored state needed precisely must be precise on the path that stopped at it. */
  propagatePrecision(old: VerifierState, cur: VerifierState, live: (frame: number) => number): void {
    const bt = this.bt;
    old.frames.forEach((f, fr) => {
      forEachMark(old.precise, fr, (kind, i) => {
        if (kind === 'reg') {
          if ((live(fr) >> i) & 1 && f.regs[i]!.type === 'scalar') markReg(bt, fr, i);
        } else if (hasSlot(old.read, fr, i)) {
          markSlot(bt, fr, i);
        }
      });
    });
    markChainPrecision(this.p, cur, bt);
    bt.fill(0);
  }

  /** The current path relies on the exact values of these registers (and stack slot) of the current frame. */
  needPrecise(st: VerifierState, regs: readonly number[], slot?: { frame: number; k: number }): void {
    const bt = this.bt;
    const fr = st.frames.length - 1;
    const f = curFrame(st);
    for (const r of regs) if (f.regs[r]!.type === 'scalar') markReg(bt, fr, r);
    if (slot) markSlot(bt, slot.frame, slot.k);
    markChainPrecision(this.p, st, bt);
    bt.fill(0);
  }

  memContext(st: VerifierState, pc: number): MemContext {
    const stack: StackEvents = {
      read: (frame, from, to) => {
        for (let k = from >> 3; k < (to + 7) >> 3; k++) markSlotRead(st, frame, k);
      },
      wroteSlot: (frame, k) => markSlot((st.written ??= newMarks()), frame, k),
      spillFill: (frame, k) => {
        this.access = frame * SLOTS + k;
      },
      zeroFrom: (regno) => this.needPrecise(st, [regno]),
    };
    return {
      insn: pc, maps: this.maps, privileged: this.privileged, attach: this.attach, offloaded: this.offloaded, stack,
      frame: (n) => {
        const f = st.frames[n];
        if (!f) throw new VerifyError(`invalid access to the stack of a function that has returned`, pc);
        return f;
      },
    };
  }

  readReg(f: FuncState, r: number, pc: number): RegState {
    const reg = f.regs[r]!;
    if (reg.type === 'not_init') throw new VerifyError(`R${r} !read_ok`, pc);
    return reg;
  }

  setReg(f: FuncState, r: number, v: RegState, pc: number): void {
    if (r === 10) throw new VerifyError('frame pointer is read only', pc);
    f.regs[r] = v;
  }

  /** One instruction; returns the next pc, or -1 when the path ends. */
  step(pc: number, insn: Insn, k: InsnKind, st: VerifierState, work: { insn: number; state: VerifierState }[]): number {
    const f = curFrame(st);
    const next = pc + slotCount(insn);
    switch (k.k) {
      case 'alu':
        this.alu(pc, insn, k, st);
        return next;
      case 'end': {
        this.readReg(f, insn.dst, pc);
        const r = f.regs[insn.dst]!;
        if (isPointer(r)) throw new VerifyError(`R${insn.dst} pointer arithmetic prohibited`, pc);
        this.setReg(f, insn.dst, scalarReg(scalarEndian(r.s, k.order, k.bits)), pc);
        return next;
      }
      case 'ja':
        this.jumps++;
        return pc + (k.long ? insn.imm : insn.off) + 1;
      case 'jcond':
        this.jumps++;
        return this.condJump(pc, insn, k, st, work);
      case 'maygoto': {
        // The budget-spent jump is walked first; the next iteration waits, one level deeper.
        this.jumps++;
        const other = cloneState(st);
        other.mayGotoDepth++;
        this.widenImprecise(pc, other);
        this.pushBranch(pc, st, other, next, work);
        return pc + insn.off + 1;
      }
      case 'lddw': {
        if (k.pseudo === LddwSrc.IMM64) {
          const v = (BigInt(insn.next!.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
          this.setReg(f, insn.dst, constReg(v), pc);
        } else if (k.pseudo === LddwSrc.MAP_IDX || k.pseudo === LddwSrc.MAP_FD) {
          if (!this.maps[insn.imm]) throw new VerifyError(`fd ${insn.imm} is not pointing to valid bpf_map`, pc);
          this.setReg(f, insn.dst, pointerReg('map_ptr', { map: insn.imm }), pc);
        } else if (k.pseudo === LddwSrc.MAP_IDX_VALUE || k.pseudo === LddwSrc.MAP_VALUE) {
          const m = this.maps[insn.imm];
          if (!m) throw new VerifyError(`fd ${insn.imm} is not pointing to valid bpf_map`, pc);
          const off = insn.next!.imm;
          if (m.type !== MAP_TYPE.ARRAY || m.maxEntries !== 1 || off < 0 || off >= m.valueSize) {
            throw new VerifyError(`invalid access to map value pointer, value_size=${m.valueSize} off=${off}`, pc);
          }
          this.setReg(f, insn.dst, pointerReg('map_value', { map: insn.imm, off }), pc);
        } else {
          throw new VerifyError(`unrecognized bpf_ld_imm64 insn`, pc);
        }
        return next;
      }
      case 'ldx': {
        const base = this.readReg(f, insn.src, pc);
        const v = checkMemAccess(this.memContext(st, pc), insn.src, base, insn.off, k.size, false, k.signed);
        this.setReg(f, insn.dst, v, pc);
        return next;
      }
      case 'st': {
        const base = this.readReg(f, insn.dst, pc);
        checkMemAccess(this.memContext(st, pc), insn.dst, base, insn.off, k.size, true, false, undefined, BigInt(insn.imm));
        return next;
      }
      case 'stx': {
        const base = this.readReg(f, insn.dst, pc);
        const value = this.readReg(f, insn.src, pc);
        checkMemAccess(this.memContext(st, pc), insn.dst, base, insn.off, k.size, true, false, value, undefined, insn.src);
        return next;
      }
      case 'atomic':
        this.atomic(pc, insn, k, st);
        return next;
      case 'call':
        this.jumps++; // the kernel counts every BPF_JMP-class instruction (fixtures then match its counts exactly)
        return this.call(pc, insn, k, st);
      case 'exit':
        this.jumps++;
        return this.exit(pc, st);
      default:
        throw new VerifyError(`unknown opcode ${insn.code.toString(16)}`, pc);
    }
  }

  alu(pc: number, insn: Insn, k: Extract<InsnKind, { k: 'alu' }>, st: VerifierState): void {
    const f = curFrame(st);
    const width = k.width;
    if (k.op === 'mov' || k.op === 'movsx') {
      let src: RegState;
      if (k.useReg) src = this.readReg(f, insn.src, pc);
      else src = constReg(BigInt.asUintN(64, BigInt(insn.imm)));
      if (k.op === 'movsx') {
        if (isPointer(src)) this.setReg(f, insn.dst, unknownReg(), pc);
        else this.setReg(f, insn.dst, scalarReg(signExtend(src.s, k.fromBits!, width)), pc);
        return;
      }
      if (width === 64) {
        this.setReg(f, insn.dst, k.useReg ? this.linkedCopy(f, insn.src, src) : src, pc);
        return;
      }
      if (isPointer(src)) {
        if (!this.privileged) throw new VerifyError(`R${insn.src} partial copy of pointer`, pc);
        this.setReg(f, insn.dst, scalarReg(scalarFromLoad(4, false)), pc);
        return;
      }
      // A 32-bit copy of a value that fits in 32 bits is the same value: linked like a 64-bit one.
      const fits = k.useReg && src.s.umax <= 0xffffffffn;
      const copied = fits ? this.linkedCopy(f, insn.src, src) : src;
      this.setReg(f, insn.dst, scalarReg(scalarAlu('mov', src.s, src.s, 32), fits ? copied.id : 0), pc);
      return;
    }
    const op = ALU_OPS[k.op]!;
    if (op !== 'neg') {
      if ((op === 'div' || op === 'mod' || op === 'sdiv' || op === 'smod') && !k.useReg && insn.imm === 0) {
        throw new VerifyError('div by zero', pc);
      }
      if ((op === 'lsh' || op === 'rsh' || op === 'arsh') && !k.useReg && (insn.imm < 0 || insn.imm >= width)) {
        throw new VerifyError(`invalid shift ${insn.imm}`, pc);
      }
    }
    const dst = this.readReg(f, insn.dst, pc);
    const src = op === 'neg' ? dst : k.useReg ? this.readReg(f, insn.src, pc) : constReg(BigInt.asUintN(64, BigInt(insn.imm)));
    if (!isPointer(dst) && !isPointer(src)) {
      this.setReg(f, insn.dst, scalarReg(scalarAlu(op, dst.s, src.s, width)), pc);
      return;
    }
    const result = this.pointerAlu(pc, insn, k.useReg, op, width, dst, src, st);
    // The offset added to a pointer must be exact wherever this path is compared (adjust_reg_min_max_vals).
    if (k.useReg && isPointer(result) && (op === 'add' || op === 'sub')) this.needPrecise(st, [isPointer(dst) ? insn.src : insn.dst]);
    this.setReg(f, insn.dst, result, pc);
  }

  /**
   * A register copy of a scalar shares an id with its source, so what a later comparison learns of
   * one holds for the other (assign_scalar_id_before_mov); constants need no link.
   */
  linkedCopy(f: FuncState, srcReg: number, src: RegState): RegState {
    if (src.type !== 'scalar' || src.id !== 0 || isConst(src.s)) return src;
    const linked = { ...src, id: ++this.idGen };
    f.regs[srcReg] = linked;
    return linked;
  }

  /**
   * After a comparison refined a linked scalar on one side of a branch, every copy of it (other
   * registers, other frames, spilled slots) takes the refined value (sync_linked_regs). Returns the
   * copies as precision links (frame, register or slot), for the history.
   */
  syncLinked(st: VerifierState, reg: RegState): { frame: number; slot: boolean; index: number }[] {
    const links: { frame: number; slot: boolean; index: number }[] = [];
    if (reg.type !== 'scalar' || reg.id === 0) return links;
    st.frames.forEach((f, frame) => {
      f.regs.forEach((r, i) => {
        if (r.type !== 'scalar' || r.id !== reg.id) return;
        links.push({ frame, slot: false, index: i });
        if (r !== reg) f.regs[i] = { ...r, s: reg.s };
      });
      f.spills.forEach((r, k) => {
        if (!r || r.type !== 'scalar' || r.id !== reg.id || f.kinds[k * 8] !== Slot.SPILL) return;
        links.push({ frame, slot: true, index: k });
        if (r !== reg) {
          ownStack(f);
          f.spills[k] = { ...r, s: reg.s };
        }
      });
    });
    return links;
  }

  /** Arithmetic with a pointer operand (adjust_ptr_min_max_vals). */
  pointerAlu(pc: number, insn: Insn, useReg: boolean, op: AluOp, width: 32 | 64, dst: RegState, src: RegState, st: VerifierState): RegState {
    const dreg = insn.dst;
    if (width === 32) {
      if (op === 'sub' && this.privileged) return unknownReg();
      throw new VerifyError(`R${dreg} 32-bit pointer arithmetic prohibited`, pc);
    }
    if (isPointer(dst) && isPointer(src)) {
      if (op === 'sub' && this.privileged) return unknownReg();
      throw new VerifyError(`R${dreg} pointer ${OP_TEXT[op]} pointer prohibited`, pc);
    }
    let ptr = dst;
    let scalar = src;
    if (!isPointer(dst)) {
      // scalar += pointer is pointer arithmetic with the operands swapped.
      if (op !== 'add') {
        if (this.privileged) return unknownReg();
        throw new VerifyError(`R${dreg} pointer arithmetic with ${OP_TEXT[op]} operator prohibited`, pc);
      }
      ptr = src;
      scalar = dst;
    }
    if (op !== 'add' && op !== 'sub') {
      if (op === 'and' || op === 'or' || op === 'xor') throw new VerifyError(`R${dreg} bitwise operator ${OP_TEXT[op]} on pointer prohibited`, pc);
      throw new VerifyError(`R${dreg} pointer arithmetic with ${OP_TEXT[op]} operator prohibited`, pc);
    }
    switch (ptr.type) {
      case 'pkt_end':
        throw new VerifyError(`R${dreg} pointer arithmetic on pkt_end prohibited`, pc);
      case 'map_ptr':
        throw new VerifyError(`R${dreg} pointer arithmetic on map_ptr prohibited`, pc);
      case 'map_value_or_null':
      case 'ringbuf_mem_or_null':
        throw new VerifyError(`R${dreg} pointer arithmetic on ${ptr.type === 'map_value_or_null' ? 'map_value_or_null' : 'mem_or_null'} prohibited, null-check it first`, pc);
      default:
        break;
    }
    if (op === 'sub' && !isPointer(dst)) throw new VerifyError(`R${dreg} tried to subtract pointer from scalar`, pc);
    // Without CAP_PERFMON, speculation may not take a register offset to pointers it cannot mask (sanitize_ptr_alu).
    if (!this.privileged && useReg && !isConst(scalar.s) && (scalar.s.smin < 0n) !== (scalar.s.smax < 0n)) {
      throw new VerifyError(`R${isPointer(dst) ? insn.src : dreg} has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root`, pc);
    }
    if (!this.privileged && useReg && ptr.type !== 'fp' && ptr.type !== 'map_value') {
      throw new VerifyError(`R${isPointer(dst) ? dreg : insn.src} has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root`, pc);
    }
    this.saneOffset(pc, scalar, ptr.type);
    this.saneOffset(pc, ptr, ptr.type);
    let result: RegState;
    if (isConst(scalar.s)) {
      const c = Number(BigInt.asIntN(64, constValue(scalar.s)));
      result = { ...ptr, off: ptr.off + (op === 'add' ? c : -c) };
    } else {
      const s = scalarAlu(op, ptr.s, scalar.s, 64);
      // A packet pointer with a new variable part gets a new id and no proven range.
      result = isPacket(ptr) ? { ...ptr, s, id: ++this.idGen, range: 0 } : { ...ptr, s };
    }
    this.saneOffset(pc, result, ptr.type);
    if (!this.privileged) this.speculationBounds(pc, dreg, result, st);
    return result;
  }

  /** Offsets far enough to wrap are refused outright (check_reg_sane_offset). */
  saneOffset(pc: number, r: RegState, type: RegState['type']): void {
    const name = typeName(type);
    if (isConst(r.s)) {
      const v = BigInt.asIntN(64, constValue(r.s));
      if (v >= MAX_VAR_OFF || v <= -MAX_VAR_OFF) throw new VerifyError(`math between ${name} pointer and ${v} is not allowed`, pc);
    }
    if (r.off >= MAX_VAR_OFF || r.off <= -MAX_VAR_OFF) throw new VerifyError(`${name} pointer offset ${r.off} is not allowed`, pc);
    if (r.s.smin === S64_MIN) throw new VerifyError(`math between ${name} pointer and register with unbounded min value is not allowed`, pc);
    if (r.s.smin >= MAX_VAR_OFF || r.s.smin <= -MAX_VAR_OFF) throw new VerifyError(`value ${r.s.smin} makes ${name} pointer be out of bounds`, pc);
  }

  /** Without CAP_PERFMON a stack or map-value pointer may not even point outside its object (sanitize_check_bounds). */
  speculationBounds(pc: number, dreg: number, r: RegState, st: VerifierState): void {
    if (r.type === 'fp') {
      if (!isConst(r.s)) throw new VerifyError(`R${dreg} variable stack access prohibited for !root, var_off=${tnumText(r.s.var)} off=${r.off}`, pc);
      const off = r.off + Number(BigInt.asIntN(64, constValue(r.s)));
      if (off >= 0 || off < -MAX_BPF_STACK) throw new VerifyError(`R${dreg} stack pointer arithmetic goes out of range, prohibited for !root; off=${off}`, pc);
    } else if (r.type === 'map_value') {
      try {
        checkHelperMem(this.memContext(st, pc), dreg, r, 1, false);
      } catch (e) {
        if (!(e instanceof VerifyError)) throw e;
        throw new VerifyError(`${e.message}\nR${dreg} pointer arithmetic of map value goes out of range, prohibited for !root`, pc);
      }
    }
  }

  condJump(pc: number, insn: Insn, k: Extract<InsnKind, { k: 'jcond' }>, st: VerifierState, work: { insn: number; state: VerifierState }[]): number {
    const f = curFrame(st);
    const target = pc + insn.off + 1;
    const fall = pc + 1;
    const a = this.readReg(f, insn.dst, pc);
    const b = k.useReg ? this.readReg(f, insn.src, pc) : constReg(BigInt.asUintN(64, BigInt(insn.imm)));
    const op = k.op as CmpOp;
    if (!isPointer(a) && !isPointer(b)) {
      const taken = branchTaken(op, a.s, b.s, k.width);
      if (taken >= 0) {
        // Only one way to go: the values that decided it must be exact wherever this path is compared.
        this.needPrecise(st, k.useReg ? [insn.dst, insn.src] : [insn.dst]);
        if (!this.privileged) this.speculate(pc, insn, k.useReg, st, taken === 1 ? fall : target, work);
        return taken === 1 ? target : fall;
      }
      const other = cloneState(st);
      this.pushBranch(pc, st, other, target, work);
      const onTrue = refineBranch(op, a.s, b.s, k.width, true);
      const onFalse = refineBranch(op, a.s, b.s, k.width, false);
      const apply = (s: VerifierState, pair: [Scalar, Scalar] | undefined) => {
        if (!pair) return;
        const fr = curFrame(s);
        fr.regs[insn.dst] = { ...fr.regs[insn.dst]!, s: pair[0] };
        if (k.useReg) fr.regs[insn.src] = { ...fr.regs[insn.src]!, s: pair[1] };
        const links = this.syncLinked(s, fr.regs[insn.dst]!);
        if (k.useReg) links.push(...this.syncLinked(s, fr.regs[insn.src]!));
        if (links.length < 2) return;
        // The links go into the history right after this jump: the pushed side has it already.
        if (s === st) s.pendingLinks = links;
        else for (const l of links) s.hist.push(linkEntry(l.frame, l.slot, l.index));
      };
      apply(other, onTrue);
      apply(st, onFalse);
      return fall;
    }
    // A pointer that cannot be NULL (reg_not_null) is never equal to 0: that compare is decided.
    const neverNull = a.type === 'map_value' || a.type === 'map_ptr' || a.type === 'ringbuf_mem';
    if (neverNull && (op === 'jeq' || op === 'jne') && !isPointer(b) && isConst(b.s) && constValue(b.s) === 0n) {
      const to = op === 'jne' ? target : fall;
      if (!this.privileged) this.speculate(pc, insn, k.useReg, st, op === 'jne' ? fall : target, work);
      return to;
    }
    // A maybe-NULL pointer compared with 0 becomes the pointer on one side and 0 on the other.
    // Only 64-bit compares are NULL checks or packet bounds checks (a 32-bit one proves nothing of a pointer).
    const nullCheck = k.width === 64 && (op === 'jeq' || op === 'jne') && ((maybeNull(a) && !isPointer(b) && isConst(b.s) && constValue(b.s) === 0n));
    const other = cloneState(st);
    this.pushBranch(pc, st, other, target, work);
    if (nullCheck) {
      const isNullOn = op === 'jeq' ? other : st;
      const notNullOn = op === 'jeq' ? st : other;
      this.markNull(isNullOn, a.id, true);
      this.markNull(notNullOn, a.id, false);
    } else if (k.width === 64 && (a.type === 'pkt' && b.type === 'pkt_end' || a.type === 'pkt_end' && b.type === 'pkt' ||
      a.type === 'pkt_meta' && b.type === 'pkt' || a.type === 'pkt' && b.type === 'pkt_meta')) {
      this.packetCompare(op, a, b, st, other);
    } else if (isPointer(a) !== isPointer(b) || (isPointer(a) && isPointer(b))) {
      if (!this.privileged) throw new VerifyError(`R${insn.dst} pointer comparison prohibited`, pc);
    }
    return fall;
  }

  /**
   * Without CAP_PERFMON the kernel also walks the side of a decided branch the CPU might mispredict
   * into, with the compared registers unknown (sanitize_speculative_path): a path where unsafe
   * memory accesses end the path rather than the program, and which never prunes a real one.
   */
  speculate(pc: number, insn: Insn, useReg: boolean, st: VerifierState, to: number, work: { insn: number; state: VerifierState }[]): void {
    const other = cloneState(st);
    other.speculative = true;
    const f = curFrame(other);
    f.regs[insn.dst] = unknownReg();
    if (useReg) f.regs[insn.src] = unknownReg();
    this.pushBranch(pc, st, other, to, work);
  }

  pushBranch(pc: number, cur: VerifierState, other: VerifierState, target: number, work: { insn: number; state: VerifierState }[]): void {
    this.record(other, pc, -1);
    other.parent = cur.parent;
    if (cur.parent) cur.parent.branches++;
    this.curStates++;
    work.push({ insn: target, state: other });
    if (work.length > MAX_PENDING_BRANCHES) throw new VerifyError(`The sequence of ${work.length} jumps is too complex.`, pc);
  }

  markNull(st: VerifierState, id: number, isNull: boolean): void {
    // A reservation that came back NULL holds nothing to release.
    if (isNull) st.refs = st.refs.filter((ref) => ref.id !== id);
    mapAllRegs(st, (r) => {
      if (!maybeNull(r) || r.id !== id) return r;
      if (isNull) return constReg(0n);
      // A map-in-map's lookup yields the inner map (CONST_PTR_TO_MAP), not a value.
      const inner = r.type === 'map_value_or_null' ? this.innerOf.get(r.map) : undefined;
      if (inner !== undefined) return pointerReg('map_ptr', { map: inner });
      // A ring-buffer record keeps its id: it names the reference submit or discard releases.
      return r.type === 'map_value_or_null' ? { ...r, type: 'map_value', id: 0 } : { ...r, type: 'ringbuf_mem' };
    });
  }

  /** data' vs data_end comparisons prove packet ranges (try_match_pkt_pointers, find_good_pkt_pointers). */
  packetCompare(op: CmpOp, a: RegState, b: RegState, fallState: VerifierState, takenState: VerifierState): void {
    // Normalise to "pkt' OP end" (or "meta' OP data").
    const ptrFirst = a.type !== 'pkt_end' && !(a.type === 'pkt' && b.type === 'pkt_meta');
    const ptr = ptrFirst ? a : b;
    const flip: Record<string, CmpOp> = { jgt: 'jlt', jge: 'jle', jlt: 'jgt', jle: 'jge' };
    const o = ptrFirst ? op : flip[op] ?? op;
    // Which side learns ptr' <= end (closed) or ptr' < end (open)?
    let side: VerifierState | undefined;
    let open = false;
    switch (o) {
      case 'jgt': side = fallState; open = false; break; // !(ptr' > end): ptr' <= end
      case 'jge': side = fallState; open = true; break; // !(ptr' >= end): ptr' < end
      case 'jlt': side = takenState; open = true; break;
      case 'jle': side = takenState; open = false; break;
      default: return;
    }
    if (ptr.off < 0 || (ptr.off === 0 && open)) return;
    if (ptr.s.umax > BigInt(MAX_PACKET_OFF) || Number(ptr.s.umax) + ptr.off > MAX_PACKET_OFF) return;
    const newRange = ptr.off + (open ? 1 : 0);
    mapAllRegs(side, (r) => (r.type === ptr.type && r.id === ptr.id ? { ...r, range: Math.max(r.range, newRange) } : r));
  }

  atomic(pc: number, insn: Insn, k: Extract<InsnKind, { k: 'atomic' }>, st: VerifierState): void {
    const f = curFrame(st);
    const base = this.readReg(f, insn.dst, pc);
    const src = this.readReg(f, insn.src, pc);
    if (k.op === 'cmpxchg') this.readReg(f, 0, pc);
    if (isPointer(src) && !this.privileged) throw new VerifyError(`R${insn.src} leaks addr into mem`, pc);
    if (base.type === 'ctx' || isPacket(base)) {
      throw new VerifyError(`BPF_ATOMIC stores into R${insn.dst} ${base.type === 'ctx' ? 'ctx' : 'pkt'} is not allowed`, pc);
    }
    const ctx = this.memContext(st, pc);
    if (base.type !== 'not_init') checkAlignment(ctx, base, insn.off, k.size, true);
    if (!this.privileged && base.type === 'fp' && isConst(base.s)) {
      // Without CAP_PERFMON an atomic may not read a spilled pointer back as a number.
      const at = base.off + insn.off + Number(BigInt.asIntN(64, constValue(base.s)));
      const f = ctx.frame(base.frame);
      const spilled = f.spills[(MAX_BPF_STACK + at) >> 3];
      if (spilled && isPointer(spilled) && f.kinds[MAX_BPF_STACK + at] === Slot.SPILL) throw new VerifyError(`leaking pointer from stack off ${at}`, pc);
    }
    checkMemAccess(ctx, insn.dst, base, insn.off, k.size, false, false);
    checkMemAccess(ctx, insn.dst, base, insn.off, k.size, true, false, scalarReg(unknownScalar()));
    const loaded = scalarReg(scalarFromLoad(k.size, false));
    if (k.op === 'cmpxchg') f.regs[0] = loaded;
    else if (k.fetch) this.setReg(f, insn.src, loaded, pc);
  }

  call(pc: number, insn: Insn, k: Extract<InsnKind, { k: 'call' }>, st: VerifierState): number {
    const f = curFrame(st);
    if (k.target === 'local') {
      if (st.frames.length >= MAX_CALL_FRAMES) throw new VerifyError(`the call stack of ${st.frames.length + 1} frames is too deep !`, pc);
      const callee = newFrame(st.frames.length, pc + 1);
      for (let r = 1; r <= 5; r++) callee.regs[r] = f.regs[r]!;
      st.frames.push(callee);
      markWholeFrame((st.written ??= newMarks()), callee.frameno);
      return pc + insn.imm + 1;
    }
    if (k.target !== 'helper') throw new VerifyError(k.target === 'kfunc' ? 'calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF' : 'unknown opcode 8d', pc);
    const id = insn.imm;
    const proto = HELPER_PROTOS[id];
    if (!proto || (proto.perfmon && !this.privileged)) {
      const name = helperName(id);
      throw new VerifyError(name ? `program of this type cannot use helper ${name}#${id}` : `invalid func unknown#${id}`, pc);
    }
    const name = helperName(id)!;
    if (proto.gplOnly && !this.gpl) throw new VerifyError(`cannot call GPL-restricted function from non-GPL compatible program`, pc);
    const ctx = this.memContext(st, pc);
    let map: MapDef | undefined;
    let mem: RegState | undefined;
    let memReg = 0;
    let memWrite = false;
    let ringbuf: RegState | undefined;
    let allocSize = 0;
    let constantKey: bigint | undefined;
    proto.args.forEach((arg: ArgType, i) => {
      const r = i + 1;
      const reg = f.regs[r]!;
      if (reg.type === 'not_init') throw new VerifyError(`R${r} !read_ok`, pc);
      const expect = (ok: boolean, expected: string) => {
        if (!ok) throw new VerifyError(`R${r} type=${typeName(reg.type)} expected=${expected}`, pc);
      };
      switch (arg) {
        case 'ctx':
          expect(reg.type === 'ctx', 'ctx');
          checkCtxUnmodified(ctx, r, reg);
          break;
        case 'map': {
          expect(reg.type === 'map_ptr', 'map_ptr');
          map = this.maps[reg.map]!;
          const allowed = proto.mapTypes;
          const only = MAP_ONLY_FOR[map.type];
          if (id === 12 && map.type !== MAP_TYPE.PROG_ARRAY) throw new VerifyError('expected prog array map for tail call', pc);
          if ((allowed && !allowed.includes(map.type)) || (only && !only.includes(id))) {
            throw new VerifyError(`cannot pass map_type ${map.type} into func ${name}#${id}`, pc);
          }
          break;
        }
        case 'key':
          checkHelperMem(ctx, r, reg, map!.keySize, false);
          if (map!.type === MAP_TYPE.ARRAY || map!.type === MAP_TYPE.PERCPU_ARRAY) {
            const known = this.stackConstant(st, reg, map!.keySize);
            constantKey = known?.value;
            // A lookup that cannot fail relies on the key's exact value (get_constant_map_key).
            if (known?.slot !== undefined) this.needPrecise(st, [], { frame: reg.frame, k: known.slot });
          }
          break;
        case 'value':
          checkHelperMem(ctx, r, reg, map!.valueSize, false);
          break;
        case 'uninit_value':
          checkHelperMem(ctx, r, reg, map!.valueSize, true);
          break;
        case 'mem':
        case 'mem_or_null':
        case 'uninit_mem':
          if (arg === 'mem_or_null' && reg.type === 'scalar' && isConst(reg.s) && constValue(reg.s) === 0n) {
            mem = undefined;
            break;
          }
          expect(['fp', 'pkt', 'pkt_meta', 'map_value', 'ringbuf_mem'].includes(reg.type), 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_');
          mem = reg;
          memReg = r;
          memWrite = arg === 'uninit_mem';
          break;
        case 'size':
        case 'size_or_zero': {
          expect(reg.type === 'scalar', 'scalar');
          if (reg.s.smin < 0n) throw new VerifyError(`R${r} min value is negative, either use unsigned or 'var &= const'`, pc);
          if (arg === 'size' && reg.s.umin === 0n) throw new VerifyError(`R${r} invalid zero-sized read: u64=[0,${reg.s.umax}]`, pc);
          if (reg.s.umax >= 1n << 29n) throw new VerifyError(`R${r} unbounded memory access, use 'var &= const' or 'if (var < const)'`, pc);
          if (mem) checkHelperMem(ctx, memReg, mem, Number(reg.s.umax), memWrite);
          mem = undefined;
          this.needPrecise(st, [r]);
          break;
        }
        case 'alloc_size':
          expect(reg.type === 'scalar', 'scalar');
          if (!isConst(reg.s)) throw new VerifyError(`R${r} is not a known constant'`, pc);
          allocSize = Number(constValue(reg.s));
          this.needPrecise(st, [r]);
          break;
        case 'ringbuf_mem':
          expect(reg.type === 'ringbuf_mem', 'ringbuf_mem');
          if (reg.off !== 0 || !isConst(reg.s) || constValue(reg.s) !== 0n) throw new VerifyError(`R${r} must have zero offset when passed to release func`, pc);
          ringbuf = reg;
          break;
        case 'lock':
          expect(reg.type === 'map_value', 'map_value');
          break;
        case 'anything':
          break;
      }
    });
    // The call clobbers r1-r5 and sets r0.
    // Invalidated pointers become numbers, or (without CAP_PERFMON, lest they leak) unreadable (mark_reg_invalid).
    const invalid = (): RegState => (this.privileged ? unknownReg() : NOT_INIT);
    if (proto.packetChanging) {
      mapAllRegs(st, (r) => (isPacket(r) || r.type === 'pkt_end' ? invalid() : r));
    }
    if (ringbuf) {
      const released = ringbuf.id;
      mapAllRegs(st, (r) => (r.type === 'ringbuf_mem' && r.id === released ? invalid() : r));
      st.refs = st.refs.filter((ref) => ref.id !== released);
    }
    for (let r = 1; r <= 5; r++) f.regs[r] = NOT_INIT;
    switch (proto.ret) {
      case 'int': f.regs[0] = unknownReg(); break;
      case 'cpu_id': f.regs[0] = scalarReg(scalarFromLoad(4, false)); break;
      case 'void': f.regs[0] = NOT_INIT; break;
      case 'map_value_or_null': {
        const index = this.maps.indexOf(map!);
        const key = constantKey;
        // An array lookup with a constant key below max_entries cannot fail (the kernel knows this too).
        const sure = key !== undefined && key < BigInt(map!.maxEntries);
        f.regs[0] = sure ? pointerReg('map_value', { map: index }) : pointerReg('map_value_or_null', { map: index, id: ++this.idGen });
        break;
      }
      case 'ringbuf_mem_or_null': {
        // The kernel numbers the NULL check, then the reference, and keeps the latter for both.
        this.idGen++;
        const id = ++this.idGen;
        f.regs[0] = pointerReg('ringbuf_mem_or_null', { memSize: allocSize, id });
        st.refs.push({ id, insn: pc });
        break;
      }
    }
    if (id === 12) f.regs[0] = NOT_INIT; // bpf_tail_call returns nothing the program may read
    return pc + 1;
  }

  /** The value a stack pointer's bytes are known to hold (zeros, or a constant spilled to `slot`), if known. */
  stackConstant(st: VerifierState, reg: RegState, size: number): { value: bigint; slot?: number } | undefined {
    if (reg.type !== 'fp' || !isConst(reg.s) || size > 8) return undefined;
    const f = st.frames[reg.frame];
    if (!f) return undefined;
    const at = MAX_BPF_STACK + reg.off + Number(BigInt.asIntN(64, constValue(reg.s)));
    if (at < 0 || at + size > MAX_BPF_STACK) return undefined;
    if (f.kinds.subarray(at, at + size).every((b) => b === Slot.ZERO)) return { value: 0n };
    const spilled = f.spills[at >> 3];
    if (at % 8 === 0 && f.kinds[at] === Slot.SPILL && spilled?.type === 'scalar' && isConst(spilled.s)) {
      return { value: BigInt.asUintN(size * 8, constValue(spilled.s)), slot: at >> 3 };
    }
    return undefined;
  }

  exit(pc: number, st: VerifierState): number {
    const f = curFrame(st);
    const r0 = f.regs[0]!;
    // A subprogram may leave r0 unset: the caller then cannot read it.
    if (r0.type === 'not_init' && st.frames.length === 1) throw new VerifyError('R0 !read_ok', pc);
    this.checkStackDepth(st, pc);
    if (st.frames.length > 1) {
      if (r0.type === 'fp' && r0.frame === st.frames.length - 1) throw new VerifyError('cannot return stack pointer to the caller', pc);
      st.frames.pop();
      const caller = curFrame(st);
      caller.regs[0] = r0;
      for (let r = 1; r <= 5; r++) caller.regs[r] = NOT_INIT;
      return f.callsite;
    }
    if (isPointer(r0) && !this.privileged) throw new VerifyError('R0 leaks addr as return value', pc);
    const leaked = st.refs[0];
    if (leaked) throw new VerifyError(`Unreleased reference id=${leaked.id} alloc_insn=${leaked.insn}`, pc);
    return -1;
  }

  checkStackDepth(st: VerifierState, pc: number): void {
    // Each frame rounded up to 16 bytes, as the kernel rounds when the JIT is on (round_up_stack_depth).
    const total = st.frames.reduce((sum, fr) => sum + Math.ceil(fr.stackDepth / 16) * 16, 0);
    if (total > MAX_BPF_STACK) {
      throw new VerifyError(`combined stack size of ${st.frames.length} calls is ${total}. Too large`, pc);
    }
  }
}

export function verifyProgram(
  program: Pick<Program, 'insns' | 'slots' | 'funcs' | 'lines'> & { readonly type?: Program['type'] }, maps: readonly MapDef[], opts: VerifyOptions = {},
): VerifyResult {
  const started = process.hrtime.bigint();
  const walk = new Walk(program, maps, { ...opts, attach: opts.attach ?? program.type?.attach });
  let error: VerifyResult['error'];
  try {
    walk.run();
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e;
    error = { insn: e.insn, message: e.message, pass: e.pass };
    if (walk.logLevel > 0) walk.log(e.message);
  }
  const stats = {
    processed: Math.min(walk.processed, walk.limit + 1), maxStatesPerInsn: walk.maxStatesPerInsn,
    totalStates: walk.statesCreated, peakStates: walk.peakStates,
  };
  const summary = `processed ${stats.processed} insns (limit ${walk.limit}) max_states_per_insn ${stats.maxStatesPerInsn} total_states ${stats.totalStates} peak_states ${stats.peakStates} mark_read 0`;
  const log = walk.logLevel > 0 ? `${walk.lines.join('\n')}\n${summary}\n` : `${summary}\n`;
  return { ok: error === undefined, ...(error ? { error } : {}), log, stats, timeNs: Number(process.hrtime.bigint() - started) };
}

/**
 * The verifier: an abstract interpreter over every path of an XDP program, as
 * the Linux kernel's (kernel/bpf/verifier.c, do_check) walks it. Each path
 * carries register and stack states; conditional jumps split it and refine both
 * sides (scalar bounds, packet ranges proven against data_end, NULL checks);
 * memory accesses, helper calls and bpf-to-bpf calls are checked against the
 * types; states seen before at a prune point end a path that can add nothing
 * (or reveal an infinite loop); a million processed instructions end it all.
 * This module holds the walk itself (paths, checkpoints, pruning, precision
 * and liveness bookkeeping, the per-instruction dispatch); conditional jumps
 * are in branches.ts, pointer arithmetic in pointer-alu.ts, calls and exits in
 * calls.ts, registers and stack in state.ts, memory rules in mem-checks.ts,
 * the scalar domain in scalar.ts/tnum.ts.
 */
import type { Insn } from '../../xdp/isa/insn.js';
import { slotCount } from '../../xdp/isa/insn.js';
import { kindOf, type InsnKind } from '../../xdp/isa/kind.js';
import { LddwSrc } from '../../xdp/isa/opcodes.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import type { MapDef, Program } from '../../xdp/object/bpf-object.js';
import { checkCfg, type SlotProgram } from './cfg.js';
import { liveRegisters, useDef } from './liveness.js';
import { kernelInsnText, stateColumn } from './log-format.js';
import { newMarks, setReg as markReg, setSlot as markSlot, forEachMark, hasReg, hasSlot, type Marks } from './marks.js';
import { checkAlignment, checkMemAccess, type MemContext, type StackEvents } from './mem-checks.js';
import { historyEntry, linkEntry, markAllPrecise, markChainPrecision } from './precision.js';
import { statesEqual } from './prune.js';
import { markSlotRead, propagateReads } from './read-marks.js';
import {
  constReg, isPacket, isPointer, pointerReg, regToString, scalarReg, unknownReg, type RegState,
} from './reg-state.js';
import {
  constValue, isConst, scalarAlu, scalarEndian, scalarFromLoad, scalarWidth, scalarWithin, signExtend,
  unknownScalar, type AluOp, 
} from './scalar.js';
import {
  MAX_BPF_STACK, Slot, cloneState, curFrame, initialState, ownStack, SLOTS, type FuncState, type VerifierState,
} from './state.js';
import { condJump } from './branches.js';
import { call, exit } from './calls.js';
import { pointerAlu } from './pointer-alu.js';
import { VerifyError } from './verify-error.js';
import { runningKernelFunctions, type KernelFunctions } from './kfunc-protos.js';

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
  /**
   * Take every scalar as precise when pruning (as the kernel does for a loader without CAP_BPF), so a
   * path is cut only where an explored state covers its values too. What `observe` then sees at an
   * instruction, joined, holds on every path — what a translator may rely on. Verdicts are the same;
   * the walk is longer than the kernel's, so its counts are not the kernel's.
   */
  preciseScalars?: boolean;
  /**
   * The kernel whose functions (kfuncs) the program calls: by default the running one's BTF
   * (/sys/kernel/btf/vmlinux), read when the first kfunc call is met; null for a kernel without BTF.
   */
  kernelFunctions?: KernelFunctions | null;
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
const MAX_LOG_BYTES = 16 << 20;

const ALU_OPS: Readonly<Record<string, AluOp>> = {
  add: 'add', sub: 'sub', mul: 'mul', div: 'div', sdiv: 'sdiv', mod: 'mod', smod: 'smod', or: 'or', and: 'and',
  xor: 'xor', lsh: 'lsh', rsh: 'rsh', arsh: 'arsh', neg: 'neg',
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

export interface Explored {
  readonly state: VerifierState;
  hits: number;
  misses: number;
}

/** The branches waiting to be walked: where each starts and its state. */
export type Work = { insn: number; state: VerifierState; from: number; logAt: number; jumpLine: string }[];

/** One verification: the paths walked so far, the explored states, the statistics and the log. */
export class Walk {
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
  /** The branches waiting to be walked. */
  work: Work = [];
  /** The current and the old state of a detected infinite loop (the log prints both). */
  infiniteLoop: [string, string] | undefined;
  /** The log line of the instruction being walked (a pushed branch resumes after it at level 1). */
  currentLine = '';
  /** Scratch set for precision backtracking (left empty between uses). */
  readonly bt: Marks = newMarks();
  /** The stack slot the current instruction spilled to or filled from (a history entry records it). */
  access = -1;
  live: Int32Array = new Int32Array(0);
  explored = new Map<number, Explored[]>();

  /** The object's maps, then the inner-map templates of map-in-maps (what a lookup in one yields). */
  readonly maps: readonly MapDef[];
  readonly innerOf: ReadonlyMap<number, number>;

  private kernel: KernelFunctions | null | undefined;

  /** Arguments a kfunc call passes (its BTF prototype's), for liveness; all five when unknown. */
  kfuncArity(imm: number): number {
    const name = this.program.kfuncs ? this.program.kfuncs[imm]?.name : this.kernelFunctions()?.funcName(imm);
    const proto = name !== undefined ? this.kernelFunctions()?.proto(name) : undefined;
    return proto?.args.length ?? 5;
  }

  /** The kernel's functions, read on first use (kfunc calls only). */
  kernelFunctions(): KernelFunctions | undefined {
    if (this.kernel === undefined) this.kernel = runningKernelFunctions() ?? null;
    return this.kernel ?? undefined;
  }

  constructor(readonly program: Pick<Program, 'insns' | 'slots' | 'funcs' | 'lines' | 'kfuncs'>, objectMaps: readonly MapDef[], opts: VerifyOptions) {
    this.kernel = opts.kernelFunctions;
    const { maps, innerOf } = verifierMaps(objectMaps);
    this.maps = maps;
    this.innerOf = innerOf;
    this.p = slotProgram(program);
    this.posAt = new Int32Array(this.p.length).fill(-1);
    program.slots.forEach((slot, i) => (this.posAt[slot] = i));
    this.privileged = opts.privileged ?? true;
    this.logLevel = opts.logLevel ?? 0;
    this.gpl = opts.gplCompatible ?? true;
    this.limit = opts.complexityLimit ?? COMPLEXITY_LIMIT;
    this.attach = opts.attach ?? 'XDP';
    this.offloaded = opts.offloaded ?? false;
    this.observe = opts.observe;
    this.allPrecise = opts.preciseScalars ?? false;
  }
  readonly allPrecise: boolean;
  /** Position in Program.insns of the instruction at each slot (-1 inside an lddw). */
  readonly posAt: Int32Array;
  readonly offloaded: boolean;
  readonly observe: VerifyOptions['observe'];
  readonly attach: string;
  readonly limit: number;

  truncateLog(length: number): void {
    for (let i = length; i < this.lines.length; i++) this.logBytes -= this.lines[i]!.length + 1;
    this.lines.length = Math.min(this.lines.length, length);
  }

  /** The next line continues the last one (a popped branch's first words follow its jump's line). */
  joinNext = false;

  log(line: string): void {
    if (this.logLevel === 0 || this.logBytes > MAX_LOG_BYTES) return;
    if (this.joinNext && this.lines.length > 0) {
      this.joinNext = false;
      this.lines[this.lines.length - 1] += ` ${line}`;
      this.logBytes += line.length + 1;
      return;
    }
    this.lines.push(line);
    this.logBytes += line.length + 1;
  }

  mapName = (i: number): string => this.maps[i]?.name ?? `#${i}`;
  mapOf = (i: number): MapDef | undefined => this.maps[i];

  /** The map an lddw names (resolve_pseudo_ldimm64): by index into the object's maps, or by fd. */
  mapRef(pseudo: number, index: number, pc: number): MapDef {
    const m = this.maps[index];
    if (m) return m;
    // Indexes reach the kernel through an fd array, which an object without maps does not pass.
    const byIndex = pseudo === LddwSrc.MAP_IDX || pseudo === LddwSrc.MAP_IDX_VALUE;
    throw new VerifyError(byIndex && this.maps.length === 0 ? 'fd_idx without fd_array is invalid' : `fd ${index} is not pointing to valid bpf_map`, pc);
  }

  /** An instruction line with, in the kernel's column, the registers it read or wrote as they are now. */
  withTouched(line: string, pc: number, st: VerifierState): string {
    const [use, def] = useDef(this.p, pc, (imm) => this.kfuncArity(imm));
    const f = curFrame(st);
    const touched: string[] = [];
    for (let r = 0; r <= 10; r++) {
      if (((use | def) >> r) & 1 && f.regs[r]!.type !== 'not_init') touched.push(`R${r}=${regToString(f.regs[r]!, this.mapOf)}`);
    }
    // A store to the stack shows the slot it wrote (the kernel marks it scratched).
    const insn = this.p.insnAt[pc]!;
    const k = this.p.kindAt[pc]!;
    const base = f.regs[insn.dst]!;
    if ((k.k === 'st' || k.k === 'stx') && base.type === 'fp' && isConst(base.s)) {
      const at = MAX_BPF_STACK + base.off + insn.off + Number(BigInt.asIntN(64, constValue(base.s)));
      const slot = st.frames[base.frame] && at >= 0 && at < MAX_BPF_STACK ? this.slotText(st.frames[base.frame]!, at >> 3) : undefined;
      if (slot) touched.push(slot);
    }
    return touched.length ? `${line.padEnd(stateColumn(line.length))}; ${touched.join(' ')}` : line;
  }

  regsText(f: FuncState): string {
    const parts: string[] = [];
    f.regs.forEach((r, i) => {
      if (r.type !== 'not_init') parts.push(`R${i}=${regToString(r, this.mapOf)}`);
    });
    for (let k = SLOTS - 1; k >= 0; k--) {
      const slot = this.slotText(f, k);
      if (slot) parts.push(slot);
    }
    return parts.join(' ');
  }

  /** A stack slot as the log shows it: the spilled register, or the kernel's letters for its bytes (highest address first). */
  slotText(f: FuncState, k: number): string | undefined {
    const i = k * 8;
    const sp = f.spills[k];
    if (sp !== undefined && f.kinds[i] === Slot.SPILL) return `fp${i - MAX_BPF_STACK}=${regToString(sp, this.mapOf)}`;
    if (f.kinds.subarray(i, i + 8).every((b) => b === Slot.INVALID)) return undefined;
    return `fp${i - MAX_BPF_STACK}=${Array.from(f.kinds.subarray(i, i + 8), (b) => '?m0r'[b]).reverse().join('')}`;
  }

  run(): void {
    const cfg = checkCfg(this.p);
    this.prunePoints = cfg.prunePoints;
    this.jmpPoints = cfg.jmpPoints;
    this.forcePoints = cfg.forcePoints;
    this.live = liveRegisters(this.p, (imm) => this.kfuncArity(imm));
    const init = initialState();
    curFrame(init).regs[1] = pointerReg('ctx');
    this.log(`0: R1=ctx() R10=fp0`);
    const work: Work = [{ insn: 0, state: init, from: -1, logAt: 0, jumpLine: '' }];
    this.work = work;
    this.curStates = 1;
    while (work.length > 0) {
      const { insn, state, from, logAt, jumpLine } = work.pop()!;
      // At level 1 the kernel keeps only the path being walked: a branch taken up again drops the
      // log of the paths walked since it was pushed (pop_stack's bpf_vlog_reset), back to the jump's
      // own line, which the branch's first state then continues. Level 2 keeps everything.
      if (this.logLevel === 1 && from >= 0) {
        this.truncateLog(logAt);
        this.log(jumpLine);
        this.joinNext = true;
      }
      this.walkPath(insn, state, work, from, jumpLine);
    }
    // An accepted program's level-1 log is only its summary (every path was dropped).
    if (this.logLevel === 1) this.truncateLog(0);
  }

  /** The path from `start` until it exits, is pruned, or fails; pushes the other side of every branch. */
  walkPath(start: number, st: VerifierState, work: Work, from: number, jumpLine = ''): void {
    let pc = start;
    let lastLine: unknown;
    // A popped branch starts with its state: "from X to Y: ..." (level 2), or "Y: ..." after the jump's line (level 1).
    const fromTo = from >= 0 && this.logLevel > 0 ? `from ${from} to ${start}${st.speculative ? ' (speculative execution)' : ''}:` : '';
    let header = fromTo;
    // The instruction processed last: the kernel's log ends with it when the budget runs out.
    let last = from >= 0 ? from : start;
    for (;;) {
      if (++this.processed > this.limit) {
        throw new VerifyError(`BPF program is too large. Processed ${this.processed} insn`, last);
      }
      if (this.prunePoints[pc] && this.visited(pc, st)) {
        this.joinNext = false;
        this.log(header ? `${header} safe` : `${pc}: safe`);
        this.finishPath(st);
        return;
      }
      if (header) {
        const state = this.regsText(curFrame(st));
        this.log(this.logLevel === 1 && jumpLine ? `${start}: ${state}` : `${header} ${state}`);
        header = '';
      }
      const insn = this.p.insnAt[pc]!;
      const k = this.p.kindAt[pc]!;
      if (this.observe) this.observe(pc, st);
      let line = '';
      if (this.logLevel > 0) {
        const pos = this.program.lines[this.posAt[pc]!];
        if (pos && pos.line > 0 && pos.line !== lastLine) this.log(`; ${pos.text.trim()} @ ${pos.file.split('/').pop()}:${pos.line}`);
        if (pos) lastLine = pos.line;
        line = `${pc}: (${insn.code.toString(16).padStart(2, '0')}) ${kernelInsnText(insn, k, this.mapName)}`;
      }
      this.currentLine = line;
      this.access = -1;
      let next: number;
      try {
        next = this.step(pc, insn, k, st, work);
      } catch (e) {
        if (line) this.log(line);
        // A speculative path that would do something unsafe ends here: the kernel puts a barrier
        // (nospec) before the instruction instead of refusing the program.
        if (!st.speculative || !(e instanceof VerifyError) || !e.recoverable) throw e;
        this.log(`${pc}: speculative path ends: ${e.message.split('\n')[0]}`);
        this.finishPath(st);
        return;
      }
      if (line) this.log(this.withTouched(line, pc, st));
      if (this.logLevel > 1) this.log(`${pc}: ${this.regsText(curFrame(st))}`);
      if (next < 0) {
        this.finishPath(st);
        return;
      }
      this.record(st, pc, this.access);
      last = pc;
      pc = next;
    }
  }

  finishPath(st: VerifierState): void {
    this.curStates--;
    for (let s = st.parent; s; s = s.parent) {
      if (--s.branches > 0) break;
      // A dropped state is let go only once nothing below it is still being walked (maybe_free_verifier_state).
      if (s.evicted) this.totalStates--;
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
    // Evicted at once, as the kernel frees a state in the same pass (even when a later one prunes).
    const dropEvicted = (): void => {
      if (!evict) return;
      list = list.filter((e) => {
        if (!this.evictable(e, pc)) return true;
        // Dropped from the list; still held (and counted in peak_states) while paths below it are open.
        if (e.state.branches > 0) e.state.evicted = true;
        else this.totalStates--;
        return false;
      });
      this.explored.set(pc, list);
    };
    for (const e of list) {
      if (e.state.branches > 0) {
        // A may_goto loop has converged when another iteration is within one still open: the
        // run-time budget ends it (is_state_visited's may_goto case). Marks of an open state are not
        // final, so this path's checkpoints take every scalar as precise and every slot as read.
        if (this.forcePoints[pc] && e.state.mayGotoDepth !== st.mayGotoDepth &&
          statesEqual(e.state, st, { exact: false, rangeWithin: true, live, privileged: this.privileged, allPrecise: this.allPrecise })) {
          e.hits++;
          markAllPrecise(st);
          st.frames.forEach((_, fr) => {
            for (let k = 0; k < SLOTS; k++) markSlotRead(st, fr, k);
          });
          dropEvicted();
          return true;
        }
        // Still being explored: the same state again means a loop that never changes anything.
        if (e.state.mayGotoDepth === st.mayGotoDepth && statesEqual(e.state, st, { exact: true, live, privileged: this.privileged, allPrecise: this.allPrecise })) {
          this.infiniteLoop = [this.regsText(curFrame(st)), this.regsText(curFrame(e.state))];
          throw new VerifyError(`infinite loop detected at insn ${pc}`, pc);
        }
        // Inside a loop, keep states less often: iterations differ and rarely prune each other.
        if (!force && this.jumps - this.jumpsAtLastState < 20 && this.processed - this.processedAtLastState < 100) add = false;
      } else if (statesEqual(e.state, st, { exact: false, live, privileged: this.privileged, allPrecise: this.allPrecise })) {
        e.hits++;
        propagateReads(e.state, st);
        this.propagatePrecision(e.state, st, live);
        dropEvicted();
        return true;
      }
      // A state that keeps failing to prune is dropped from the list, as the kernel drops it
      // (miss_cnt > hit_cnt * 3 + 3, counting misses only when a new state is to be kept).
      if (add) e.misses++;
      if (this.evictable(e, pc)) evict = true;
    }
    this.maxStatesPerInsn = Math.max(this.maxStatesPerInsn, list.length);
    dropEvicted();
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
      kernel: () => this.kernelFunctions(),
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
  step(pc: number, insn: Insn, k: InsnKind, st: VerifierState, work: Work): number {
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
        return condJump(this, pc, insn, k, st, work);
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
          this.mapRef(k.pseudo, insn.imm, pc);
          this.setReg(f, insn.dst, pointerReg('map_ptr', { map: insn.imm }), pc);
        } else if (k.pseudo === LddwSrc.MAP_IDX_VALUE || k.pseudo === LddwSrc.MAP_VALUE) {
          const m = this.mapRef(k.pseudo, insn.imm, pc);
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
        let value = this.readReg(f, insn.src, pc);
        // A scalar spilled whole at a slot's start is linked to its register (check_stack_write_fixed_off).
        if (base.type === 'fp' && value.type === 'scalar' && isConst(base.s) && (base.off + insn.off + Number(BigInt.asIntN(64, constValue(base.s)))) % 8 === 0 &&
          scalarWidth(value.s) <= 8 * k.size) value = this.linkedCopy(f, insn.src, value);
        checkMemAccess(this.memContext(st, pc), insn.dst, base, insn.off, k.size, true, false, value, undefined, insn.src);
        return next;
      }
      case 'atomic':
        this.atomic(pc, insn, k, st);
        return next;
      case 'call':
        this.jumps++; // the kernel counts every BPF_JMP-class instruction (fixtures then match its counts exactly)
        return call(this, pc, insn, k, st);
      case 'exit':
        this.jumps++;
        return exit(this, pc, st);
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
      const value = scalarAlu(op, dst.s, src.s, width);
      // A linked copy plus a small constant stays linked, at that distance (BPF_ADD_CONST); any other
      // change ends the link.
      const delta = op === 'add' && width === 64 && dst.id !== 0 && dst.off === 0 && isConst(src.s) ? constValue(src.s) : 0n;
      const keep = delta > 0n && delta <= 0x7fffffffn;
      this.setReg(f, insn.dst, keep ? { ...scalarReg(value, dst.id), off: Number(delta) } : scalarReg(value), pc);
      return;
    }
    const result = pointerAlu(this, pc, insn, k.useReg, op, width, dst, src, st);
    // The offset added to a pointer must be exact wherever this path is compared (adjust_reg_min_max_vals).
    if (k.useReg && isPointer(result) && (op === 'add' || op === 'sub')) this.needPrecise(st, [isPointer(dst) ? insn.src : insn.dst]);
    // Without CAP_PERFMON the kernel masks a variable offset at run time; a mispredicted mask leaves
    // the pointer where it was, which is walked as a speculative path (sanitize_ptr_alu).
    const offset = isPointer(dst) ? src : dst;
    if (!this.privileged && k.useReg && isPointer(result) && !isConst(offset.s) && (op === 'add' || op === 'sub')) {
      this.speculate(pc, st, pc + 1, (fr) => {
        fr.regs[insn.dst] = isPointer(dst) ? dst : src;
      });
    }
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
   * A path only a mispredicting CPU takes (walked for loaders without CAP_PERFMON): a copy of `st`
   * from `to`, changed by `adjust`; unsafe accesses end it rather than the program, and it never
   * prunes a real path.
   */
  speculate(pc: number, st: VerifierState, to: number, adjust: (f: FuncState) => void): void {
    const other = cloneState(st);
    other.speculative = true;
    adjust(curFrame(other));
    this.pushBranch(pc, st, other, to, this.work);
  }

  pushBranch(pc: number, cur: VerifierState, other: VerifierState, target: number, work: Work): void {
    this.record(other, pc, -1);
    other.parent = cur.parent;
    if (cur.parent) cur.parent.branches++;
    this.curStates++;
    work.push({ insn: target, state: other, from: pc, logAt: this.lines.length, jumpLine: this.currentLine });
    if (work.length > MAX_PENDING_BRANCHES) throw new VerifyError(`The sequence of ${work.length} jumps is too complex.`, pc);
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

}

export function verifyProgram(
  program: Pick<Program, 'insns' | 'slots' | 'funcs' | 'lines' | 'kfuncs'> & { readonly type?: Program['type'] }, maps: readonly MapDef[], opts: VerifyOptions = {},
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
    if (walk.infiniteLoop) {
      walk.log(`cur state: ${walk.infiniteLoop[0]}`);
      walk.log(`old state: ${walk.infiniteLoop[1]}`);
    }
  }
  const stats = {
    processed: Math.min(walk.processed, walk.limit + 1), maxStatesPerInsn: walk.maxStatesPerInsn,
    totalStates: walk.statesCreated, peakStates: walk.peakStates,
  };
  const summary = `processed ${stats.processed} insns (limit ${walk.limit}) max_states_per_insn ${stats.maxStatesPerInsn} total_states ${stats.totalStates} peak_states ${stats.peakStates} mark_read 0`;
  const log = walk.logLevel > 0 ? `${walk.lines.join('\n')}\n${summary}\n` : `${summary}\n`;
  return { ok: error === undefined, ...(error ? { error } : {}), log, stats, timeNs: Number(process.hrtime.bigint() - started) };
}

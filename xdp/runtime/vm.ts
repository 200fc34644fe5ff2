/**
 * The state one program run works on, shared by both host engines and by the
 * helpers: the register file as int32 pairs (r0..r10; helpers read r1..r5 and
 * write r0 here), the address space, the helper table, the instruction budget
 * and a pending tail call.
 */
import { helperName } from '../helpers/helper-registry.js';
import { helperOnHostMessage, isKernelOnlyHelper } from './kernel-only.js';
import { MemoryFault, RegionKind, type Memory, type Region } from './memory.js';
import type { XdpBuff } from './xdp-buff.js';

/** A helper reads its arguments from vm.regs (r1..r5) and leaves its result in r0. */
export type HelperFn = (vm: Vm) => void;

/** Kernel limits the engines enforce (include/linux/bpf.h). */
export const MAX_BPF_STACK = 512;
export const MAX_CALL_FRAMES = 8;
export const MAX_TAIL_CALL_CNT = 33;

export interface Vm {
  /** regs[2n] = low word of rn, regs[2n+1] = high word. */
  readonly regs: Int32Array;
  readonly memory: Memory;
  /** The stack: MAX_CALL_FRAMES frames of MAX_BPF_STACK bytes growing down; frame k's r10 is `frameTop(k)`. */
  readonly stack: Region;
  readonly helpers: readonly (HelperFn | undefined)[];
  /** Instructions still allowed in this run. */
  budget: number;
  /** The budget each run starts with. */
  readonly budgetLimit: number;
  /** Loop iterations `may_goto` still lets through in this run (BPF_MAX_LOOPS, 8M, at its start). */
  mayGoto: number;
  /** Set by bpf_tail_call: the program to continue with. */
  tailCall: number | undefined;
  /** Scratch output of the pair arithmetic. */
  readonly scratch: Int32Array;
  /** The packet and context of an XDP run (absent when a program runs over plain memory). */
  xdp: XdpBuff | undefined;
  /**
   * Called by the reference interpreter before each instruction with its slot and the registers
   * (a validator's lockstep trace); the compiled engine does not call it.
   */
  onInsn: ((slot: number, regs: Int32Array) => void) | undefined;
}

/** A run that went wrong: carried to the packet's result as `aborted` with this reason. */
export class ExecFault extends Error {
  constructor(message: string, readonly slot?: number, readonly program?: string) {
    super(slot !== undefined ? `${program ? `${program} ` : ''}insn ${slot}: ${message}` : message);
    this.name = 'ExecFault';
  }
}

/** A MemoryFault (or helper refusal) raised at `slot` becomes an ExecFault naming the instruction. */
export function faultAt(e: unknown, slot: number, program: string): unknown {
  return e instanceof MemoryFault ? new ExecFault(e.message, slot, program) : e;
}

/** The refusal of a helper this engine does not provide, by id and name (and why, when only the kernel can). */
export const missingHelper = (id: number): string =>
  isKernelOnlyHelper(id)
    ? helperOnHostMessage(id)
    : `call to helper ${id} (${helperName(id) ?? 'unknown'}), which the host engine does not provide`;

export const budgetExhausted = (budget: number): string =>
  `instruction budget of ${budget} exhausted (a loop the verifier would not bound?)`;

/** The kernel's BPF_MAX_LOOPS: how often may_goto falls through before it jumps. */
export const MAX_LOOPS = 8 * 1024 * 1024;

/** r10 of call depth k (0 = the program's own frame): frames grow down from the top of the stack region. */
export const frameTop = (depth: number): number => (MAX_CALL_FRAMES - depth) * MAX_BPF_STACK;


/** A fresh run state over `memory` (which gets the stack region). */
export function createVm(memory: Memory, helpers: readonly (HelperFn | undefined)[], budget: number): Vm {
  return {
    regs: new Int32Array(22),
    memory,
    stack: memory.add(RegionKind.STACK, new Uint8Array(MAX_BPF_STACK * MAX_CALL_FRAMES)),
    helpers,
    budget,
    budgetLimit: budget,
    mayGoto: MAX_LOOPS,
    tailCall: undefined,
    scratch: new Int32Array(2),
    xdp: undefined,
    onInsn: undefined,
  };
}

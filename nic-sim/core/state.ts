/**
 * The machine state one card thread runs on (docs/nic-isa.md "Machine model"), as
 * plain typed values: GPR banks A and B, transfer-in/out registers, the four LM
 * pointers with their pending-write delay, the condition codes, the previous-ALU
 * state, the multiplier, the CSR-read latch and the PC; plus the core's local memory
 * and the memory regions commands reach. Nothing here is global: create one per run
 * (or share `lm` / `mem` between the threads of one core on purpose).
 */
import { GPR_COUNT, LM_BYTES, LM_INDEX_COUNT, XFER_COUNT, type MemTarget, type MulSize } from '../isa/tables.js';

/** The memory regions CMD instructions reach, each a byte array the caller owns. */
export type Memories = Record<MemTarget, Uint8Array>;

export interface Flags {
  z: boolean;
  n: boolean;
  c: boolean;
  v: boolean;
}

/** Where a multiply sequence stands (docs/nic-isa.md "mul_step"): what may come next. */
export type MulPhase =
  | { readonly k: 'idle' }
  | { readonly k: 'started' }
  | { readonly k: 'step'; readonly size: MulSize; readonly done: number }
  | { readonly k: 'after-last'; readonly size: MulSize };

/** The core's registers and local memory (card-memory.ts keeps them in one WebAssembly memory). */
export interface CoreRegisters {
  /** Both banks in one array, A then B (gprA and gprB are its halves): cleared in one step. */
  readonly gprs: Uint32Array;
  /** Transfer-in: filled by memory reads, read as `$xfer_n` sources. */
  readonly xferIn: Uint32Array;
  /** Transfer-out: written as `$xfer_n` destinations, sent by memory writes. */
  readonly xferOut: Uint32Array;
  /** ACT_LM_ADDR0..3, each a multiple of 4 below 4096. */
  readonly lmAddr: Uint32Array;
  /** Per LM pointer: instructions still to run (this one included) before the pointer may be used after a write. */
  readonly lmDelay: Uint8Array;
  /** The core's local memory (4 KiB); byte b is lane b mod 4 (bits 8(b mod 4)+7..) of word b/4. */
  readonly lm: Uint8Array;
}

export interface CoreState extends CoreRegisters {
  readonly gprA: Uint32Array;
  readonly gprB: Uint32Array;
  readonly mem: Memories;
  readonly flags: Flags;
  /** The last `alu` instruction's A-field operand. */
  prevA: number;
  /** The last `alu` or `immed` result. */
  prevResult: number;
  /** The multiplier's 64-bit product. */
  product: bigint;
  mul: MulPhase;
  /** A `local_csr_rd` value waiting for the next instruction (an `immed[dst, 0]`), or undefined. */
  csrRead: number | undefined;
  /** The pseudo-random generator behind PSEUDO_RND_NUM (xorshift32 state, never 0). */
  rng: number;
  /** Where PSEUDO_RND_NUM reads come from instead of `rng`, when set (a validator feeds the host's sequence). */
  readonly random: (() => number) | undefined;
  pc: number;
}


export interface CoreStateOptions {
  /** Memory regions; each defaults to an empty array (every access then fails). */
  readonly mem?: Partial<Memories>;
  /** The core's local memory, to share it between threads; a fresh 4 KiB otherwise. */
  readonly lm?: Uint8Array;
  /** The registers (and local memory) in storage of the caller's, zeroed; fresh arrays otherwise. */
  readonly registers?: CoreRegisters;
  /** Seed of the PSEUDO_RND_NUM generator (0 is taken as 1). */
  readonly seed?: number;
  /** A source of 32-bit values for PSEUDO_RND_NUM instead of the built-in generator. */
  readonly random?: () => number;
}

export function createCoreState(opts: CoreStateOptions = {}): CoreState {
  const m = opts.mem ?? {};
  const r = opts.registers;
  const gprs = r?.gprs ?? new Uint32Array(2 * GPR_COUNT);
  return {
    gprA: gprs.subarray(0, GPR_COUNT),
    gprB: gprs.subarray(GPR_COUNT),
    gprs,
    xferIn: r?.xferIn ?? new Uint32Array(XFER_COUNT),
    xferOut: r?.xferOut ?? new Uint32Array(XFER_COUNT),
    lmAddr: r?.lmAddr ?? new Uint32Array(LM_INDEX_COUNT),
    lmDelay: r?.lmDelay ?? new Uint8Array(LM_INDEX_COUNT),
    lm: r?.lm ?? opts.lm ?? new Uint8Array(LM_BYTES),
    mem: {
      ctm: m.ctm ?? new Uint8Array(0),
      cls: m.cls ?? new Uint8Array(0),
      imem: m.imem ?? new Uint8Array(0),
      emem: m.emem ?? new Uint8Array(0),
    },
    flags: { z: false, n: false, c: false, v: false },
    prevA: 0,
    prevResult: 0,
    product: 0n,
    mul: { k: 'idle' },
    csrRead: undefined,
    rng: (opts.seed ?? 1) >>> 0 || 1,
    random: opts.random,
    pc: 0,
  };
}

/**
 * `tickDelays(D)` written out for generated code (`D` the state's lmDelay, one term
 * per LM pointer): nonzero while a pointer's delay is still pending.
 */
export const TICK_DELAYS = Array.from({ length: LM_INDEX_COUNT }, (_, k) => `(D[${k}] !== 0 ? --D[${k}] : 0)`).join(' | ');

/** Count every LM pointer's write delay down by one (unless `tick` is false); how many are still pending. */
export function tickDelays(d: Uint8Array, tick = true): number {
  let pending = 0;
  for (let k = 0; k < d.length; k++) {
    if (tick && (d[k] as number) > 0) d[k]--;
    if ((d[k] as number) > 0) pending++;
  }
  return pending;
}

/**
 * The eBPF stack in the card's local memory (the kernel JIT's `mem_ldx_stack`,
 * `mem_stx_stack`, `mem_op_stack` and the ACT_LM_ADDR prologue in drivers/net/
 * ethernet/netronome/nfp/bpf/jit.c), for loads and stores at a constant offset from
 * r10 — through r10 itself, or through a register the verifier proved to hold r10
 * plus a constant (nfp/lower-mem.ts decides which memory an access goes to).
 *
 * Layout:
 *
 *   LM bytes 0 .. 511   the 512-byte eBPF stack (MAX_BPF_STACK); r10 is LM byte 512,
 *                       so the eBPF address r10 + off (off in −512..−1) is LM byte
 *                       512 + off. Bytes are little-endian within a word (LM byte b is
 *                       bits 8(b mod 4)+7..8(b mod 4) of word ⌊b/4⌋, docs/nic-isa.md),
 *                       which is eBPF's memory order: an 8-byte slot holds the low
 *                       word at its lower address.
 *   32-byte windows     an access names its word as `*l$indexN[k]`, k = 0..7 (the
 *                       restricted LM offsets `ld_field` takes; the offset is ORed into
 *                       a pointer aligned to 32 bytes). LM pointer 1 is set once, in the
 *                       prologue, to the top window (LM 480..511, r10 − 32 .. r10 − 1),
 *                       where a program's locals usually are; an access to any other
 *                       window first sets LM pointer 3 to that window (`local_csr_wr`,
 *                       then the three instructions the write takes to apply — the
 *                       access's own set-up, padded with `nop`).
 *
 * The prologue (only in images with a stack access): `local_csr_wr[ACT_LM_ADDR1, gprA_26]`
 * — the firmware leaves the top window's address in GPR 26 (docs/nic-image.md "Entry
 * state"), as the NFP's leaves its stack in gprA_22 — and three `nop`s, which the compact
 * pass lets the first instructions fill. Setting pointer 1 back to the main top window
 * (after a subprogram call) reads GPR 26 too. (The kernel keeps the stack
 * at pointer 0; here pointers 0 and 2 carry helper-call keys and values,
 * docs/nic-image.md, so a call never has to restore the stack's pointer.) This is one fixed region: the
 * machine has no context-number CSR, so images for several threads sharing a core's
 * LM would need per-thread bases (not done here).
 *
 * Accesses (w = the word, lane = byte address mod 4):
 * - 4 bytes: `alu[lm, --, B, src]` / `alu[dst, --, B, lm]` (+ `immed[hi, 0]` for a load);
 *   8 bytes: one per word. A constant store (`st`) loads each word with `immed`
 *   straight into LM.
 * - 1 and 2 bytes: `ld_field[lm, mask, src, <<8·lane]` replaces only those bytes; a load
 *   is `ld_field_w_clr[dst, mask, lm, >>8·lane]` (the other bytes zero). A constant
 *   1/2-byte store first puts the constant in gprB_21.
 *
 * Refused, by name: offsets outside −512..−1 or not aligned to the size.
 */
import type { LdFieldInsn, LocalCsrWrInsn } from '../../../nic-sim/isa/instructions.js';
import { NOP } from '../../../nic-sim/isa/instructions.js';
import { gprA, gprB, imm, lm, type Lm, type Src } from '../../../nic-sim/isa/operands.js';
import { LM_ADDR_WRITE_LATENCY, type CsrName } from '../../../nic-sim/isa/tables.js';
import type { AccessSize } from '../../../xdp/isa/kind.js';
import { MAIN_FRAME_TOP, NONE_SRC, UR_IMM_MAX, alu, emit, loadImm32, unsupported, zeroHigh, type EmitCtx } from './emit.js';
import { CTX_GPR, IMM_GPR, dest, left, right } from './regs.js';
import { LM_WINDOW, STACK_TOP_WINDOW } from '../../../nic-sim/card/entry-state.js';

/** MAX_BPF_STACK. */
export const STACK_SIZE = 512;
/** LM byte address of the main program's r10 (the stack is LM 0 .. STACK_TOP − 1; subprograms' frames follow, nfp/functions.ts). */
export const STACK_TOP = MAIN_FRAME_TOP;
/** An LM window: 8 words, the restricted LM offsets 0..7. */
export const WINDOW = LM_WINDOW;
/** Where LM pointer 1 points for the whole run: the top window (the card's entry state has it in GPR 26). */
export const TOP_WINDOW = STACK_TOP_WINDOW;
/** The frame pointer. */
export const FP = 10;
/** The LM pointer that holds the top window for the whole run (pointers 0 and 2 carry helper arguments). */
export const TOP_POINTER = 1;

export function csrWrite(ctx: EmitCtx, csr: CsrName, v: number): void {
  let src: Src;
  if (v <= UR_IMM_MAX) src = imm(v);
  // The firmware leaves the main stack's top window in GPR 26 (docs/nic-image.md "Entry state"); nothing writes it.
  else if (v === STACK_TOP_WINDOW) src = gprA(CTX_GPR.stackWindow);
  else {
    loadImm32(ctx, gprB(IMM_GPR), v);
    src = gprB(IMM_GPR);
  }
  const insn: LocalCsrWrInsn = { cls: 'local_csr', write: true, csr, src };
  emit(ctx, insn);
}

/** Point LM pointer 1 at the top window and wait out the write (NO_SOURCE code, before the first instruction). */
export function emitStackPrologue(ctx: EmitCtx): void {
  csrWrite(ctx, 'ACT_LM_ADDR1', TOP_WINDOW);
  for (let i = 0; i < LM_ADDR_WRITE_LATENCY; i++) emit(ctx, NOP);
}

interface Slot {
  /** The word as an LM operand. */
  readonly word: (plus: number) => Lm;
  /** Byte address mod 4. */
  readonly lane: number;
}

/**
 * Check the access and make its window reachable: pointer 1 for the top window, else
 * set pointer 3, run `setup` (which must not touch LM) in the write delay, pad with nops.
 */
function stackSlot(ctx: EmitCtx, off: number, size: AccessSize, what: string, setup: () => void): Slot {
  if (off < -STACK_SIZE || off + size > 0) {
    throw unsupported(ctx, `${what} at r10${off < 0 ? '' : '+'}${off}: outside the ${STACK_SIZE}-byte stack`);
  }
  if (off % size !== 0) throw unsupported(ctx, `${what} at r10${off}: not aligned to its size ${size}`);
  const addr = ctx.frameTop + off;
  const window = addr & ~(WINDOW - 1);
  const k = (addr & (WINDOW - 1)) >> 2;
  let index = TOP_POINTER;
  if (window === ctx.frameTop - WINDOW) setup();
  else {
    index = 3;
    csrWrite(ctx, 'ACT_LM_ADDR3', window);
    const at = ctx.out.length;
    setup();
    while (ctx.out.length - at < LM_ADDR_WRITE_LATENCY) emit(ctx, NOP);
  }
  return { word: (plus) => lm(index, k + plus), lane: addr & 3 };
}

const MASK: Record<1 | 2, number> = { 1: 0b0001, 2: 0b0011 };

/** `ld_field[lm, mask, src, <<8·lane]`: store the low 1 or 2 bytes of `src` at their lanes. */
function storeBytes(ctx: EmitCtx, slot: Slot, size: 1 | 2, src: Src): void {
  const insn: LdFieldInsn = {
    cls: 'ld_field', a: slot.word(0), b: src, swap: false, wrBoth: false,
    byteMask: MASK[size] << slot.lane, zero: false,
    sc: slot.lane === 0 ? 'rot' : 'shl', shift: 8 * slot.lane,
  };
  emit(ctx, insn);
}

/** A zero-extending load of 1, 2, 4 or 8 bytes at r10 + `fpOff` into eBPF register `d`. */
export function loadStack(ctx: EmitCtx, d: number, fpOff: number, size: AccessSize, what: string): void {
  const slot = stackSlot(ctx, fpOff, size, what, () => {});
  if (size === 1 || size === 2) {
    const ld: LdFieldInsn = {
      cls: 'ld_field', a: left(d, 0), b: slot.word(0), swap: false, wrBoth: true,
      byteMask: MASK[size], zero: true,
      sc: slot.lane === 0 ? 'rot' : 'shr', shift: 8 * slot.lane,
    };
    emit(ctx, ld);
  } else alu(ctx, dest(d, 0), NONE_SRC, 'none', slot.word(0));
  if (size === 8) alu(ctx, dest(d, 1), NONE_SRC, 'none', slot.word(1));
  else zeroHigh(ctx, d);
}

/** A store of eBPF register `s`'s low 1, 2, 4 or 8 bytes at r10 + `fpOff`. */
export function storeStackReg(ctx: EmitCtx, s: number, fpOff: number, size: AccessSize, what: string): void {
  const slot = stackSlot(ctx, fpOff, size, what, () => {});
  if (size === 1 || size === 2) return storeBytes(ctx, slot, size, right(s, 0));
  alu(ctx, slot.word(0), NONE_SRC, 'none', right(s, 0));
  if (size === 8) alu(ctx, slot.word(1), NONE_SRC, 'none', right(s, 1));
}

/** A store of the constant `imm` (sign-extended to 8 bytes) at r10 + `fpOff`. */
export function storeStackImm(ctx: EmitCtx, imm: number, fpOff: number, size: AccessSize, what: string): void {
  if (size === 1 || size === 2) {
    const v = imm & (size === 1 ? 0xff : 0xffff);
    const slot = stackSlot(ctx, fpOff, size, what, () => loadImm32(ctx, gprB(IMM_GPR), v));
    return storeBytes(ctx, slot, size, gprB(IMM_GPR));
  }
  const slot = stackSlot(ctx, fpOff, size, what, () => {});
  loadImm32(ctx, slot.word(0), imm >>> 0);
  if (size === 8) loadImm32(ctx, slot.word(1), imm < 0 ? 0xffffffff : 0);
}

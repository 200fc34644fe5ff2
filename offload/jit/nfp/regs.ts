/**
 * The register map of the NFP lowering (the kernel's drivers/net/ethernet/netronome/
 * nfp/bpf/jit.c and main.h) (the stack is local memory, nfp/lower-stack.ts):
 *
 * - eBPF Rn (n = 0..9) lives in the GPR pair 2n (low word) and 2n + 1 (high word).
 *   Every write goes to **both banks** (`gprAB_k`, the WR_AB bit), as the kernel's
 *   `reg_both()` does, so either bank holds the current value and an ALU instruction
 *   can take one eBPF register from bank A and the other from bank B. Reads follow
 *   one fixed rule: the instruction's destination register (and any register on
 *   the left of an operation) is read from bank A, its source register from bank B.
 * - R10 (the frame pointer) has no register: it is lowered only as the base of a
 *   stack load or store at a constant offset, which becomes a local-memory operand
 *   (nfp/lower-stack.ts); any other use of r10 is refused.
 * - GPR 21 is the immediate scratch register (the kernel's STATIC_REG_IMM 21): a
 *   constant that does not fit an operand field is loaded into gprB_21 by `immed`
 *   right before the instruction that needs it.
 * - GPR 20 (both banks, separately) is a second scratch register: the 64-bit
 *   equality and bit-test compares combine two words in it, register shifts keep
 *   amounts in gprA_20, a 64-bit multiply its partial products in gprA_20/gprB_20
 *   (and the high word of dl·sl in gprA_21). It is free because R10 never occupies
 *   its pair.
 * - GPRs 22–25 (both banks) hold the packet's context, set by the firmware before
 *   each packet (docs/nic-image.md "Entry state"): `data` (the packet's CTM address),
 *   its length, the ingress ifindex and the rx queue index. adjust_head and
 *   adjust_tail change 22 and 23, and the firmware takes the packet from them after
 *   the run.
 * - The outro leaves the NFP action code in gprA_0 (the kernel's outro writes
 *   `reg_a(0)` too). It overwrites only the bank-A copy of R0's low word: R0 stays
 *   whole in gprB_0/gprB_1.
 */
import { gprA, gprAB, gprB, type Gpr, type GprDst } from '../../../nic-sim/isa/operands.js';

/** eBPF registers the JIT maps to GPRs (R0..R9). */
export const MAX_MAPPED_REG = 9;
/** The kernel's STATIC_REG_IMM. */
export const IMM_GPR = 21;
/** Second scratch, GPR 20 (R10's pair, which R10 does not use). */
export const TMP_GPR = 20;
/** The packet context's registers (both banks): the card's entry state. */
export { ENTRY_GPR as CTX_GPR } from '../../../nic-sim/card/entry-state.js';
/** Where the outro leaves the action code: bank A, GPR 0. */
export const ACTION_GPR: Gpr = gprA(0);

export const loGpr = (reg: number): number => reg * 2;
export const hiGpr = (reg: number): number => reg * 2 + 1;

/** Word 0 (low) or 1 (high) of an eBPF register. */
export type Word = 0 | 1;
export const gprOf = (reg: number, word: Word): number => reg * 2 + word;

/** A word of an eBPF register as a left operand (bank A). */
export const left = (reg: number, word: Word): Gpr => gprA(gprOf(reg, word));
/** A word of an eBPF register as a right operand (bank B). */
export const right = (reg: number, word: Word): Gpr => gprB(gprOf(reg, word));
/** A word of an eBPF register as a destination: both banks. */
export const dest = (reg: number, word: Word): GprDst => gprAB(gprOf(reg, word));

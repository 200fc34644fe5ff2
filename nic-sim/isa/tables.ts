/**
 * The named values of the card's fields, one table per fact. Values marked
 * "nfp_asm.h" are the Linux NFP driver header's enums (`alu_op`, `shf_op`, `shf_sc`,
 * `br_mask`, `immed_width`, `immed_shift`, `cmd_ctx_swap`, `cmd_mode`, `mul_type`,
 * `mul_step`, the `NFP_CSR_*` addresses); the others are this project's own
 * definitions where the public header is silent (see docs/nic-isa.md).
 */

/** A two-way table between names and field codes. */
export interface CodeTable<N extends string> {
  readonly code: Readonly<Record<N, number>>;
  readonly names: readonly N[];
  /** The name of a code, or undefined when the code is unassigned. */
  nameOf(code: number): N | undefined;
}

export function codeTable<N extends string>(code: Record<N, number>): CodeTable<N> {
  const names = Object.keys(code) as N[];
  const byCode = new Map<number, N>(names.map((n) => [code[n], n]));
  if (byCode.size !== names.length) throw new Error('codeTable: two names share a code');
  return { code, names, nameOf: (c) => byCode.get(c) };
}

// ---- machine sizes (this project's choices; docs/nic-isa.md "Machine model") ----

/** General-purpose registers per bank per thread (4-context mode). */
export const GPR_COUNT = 32;
/** Transfer registers per thread, each direction (in: filled by reads; out: sent by writes). */
export const XFER_COUNT = 32;
/** Local-memory pointers per thread (ACT_LM_ADDR0..3). */
export const LM_INDEX_COUNT = 4;
/** Local memory per core, bytes. */
export const LM_BYTES = 4096;
/** Branch targets are 13 + 1 bits (OP_BR_ADDR_LO, OP_BR_ADDR_HI): the largest image, in instructions. */
export const MAX_TARGET = 0x3fff;

// ---- ALU (nfp_asm.h enum alu_op) ----

export const ALU_OPS = codeTable({
  none: 0x00, add: 0x01, not: 0x04, add_2b: 0x05, and: 0x08, and_not_a: 0x0c, sub_c: 0x0d, and_not_b: 0x10,
  add_c: 0x11, or: 0x14, sub: 0x15, xor: 0x18,
});
export type AluOp = keyof typeof ALU_OPS.code;

/** Operator text in `alu[...]` (NFP microcode spelling). */
export const ALU_OP_TEXT: Readonly<Record<AluOp, string>> = {
  none: 'B', add: '+', not: '~B', add_2b: '+16', and: 'AND', and_not_a: '~AND', sub_c: '-carry', and_not_b: 'AND~',
  add_c: '+carry', or: 'OR', sub: '-', xor: 'XOR',
};

// ---- ALU_SHF (nfp_asm.h enum shf_op, enum shf_sc) ----

export const SHF_OPS = codeTable({ none: 0, and: 2, or: 5, ashr: 6 });
export type ShfOp = keyof typeof SHF_OPS.code;
export const SHF_OP_TEXT: Readonly<Record<ShfOp, string>> = { none: 'B', and: 'AND', or: 'OR', ashr: 'ASHR' };

export const SHIFT_CLASSES = codeTable({ rot: 0, shr: 1, shl: 2, dshr: 3 });
export type ShiftClass = keyof typeof SHIFT_CLASSES.code;

// ---- BR (nfp_asm.h enum br_mask; pl, vs, vc are this project's) ----

export const BR_CONDS = codeTable({
  eq: 0x00, ne: 0x01, mi: 0x02, pl: 0x03, hs: 0x04, lo: 0x05, vs: 0x06, vc: 0x07, ge: 0x08, lt: 0x09, always: 0x18,
});
export type BrCond = keyof typeof BR_CONDS.code;
export const BR_MNEMONIC: Readonly<Record<BrCond, string>> = {
  eq: 'beq', ne: 'bne', mi: 'bmi', pl: 'bpl', hs: 'bhs', lo: 'blo', vs: 'bvs', vc: 'bvc', ge: 'bge', lt: 'blt',
  always: 'br',
};
/** nfp_asm.h enum br_ev_pip: UNCOND 0, COND 1. */
export const BR_EV_PIP = { uncond: 0, cond: 1 } as const;
/** nfp_asm.h enum br_ctx_signal_state: NONE 2 (the only state this project uses). */
export const BR_CSS_NONE = 2;
/** Largest defer count: the kernel JIT refuses more than 2 after an unconditional branch; the field holds 3. */
export const MAX_DEFER = 3;
export const MAX_DEFER_UNCOND = 2;

// ---- IMMED (nfp_asm.h enum immed_width, enum immed_shift) ----

export const IMMED_WIDTHS = codeTable({ all: 0, byte: 1, word: 2 });
export type ImmedWidth = keyof typeof IMMED_WIDTHS.code;
export const IMMED_MNEMONIC: Readonly<Record<ImmedWidth, string>> = { all: 'immed', byte: 'immed_b', word: 'immed_w' };
/** Byte shifts IMMED_SHIFT_0B/1B/2B. */
export const IMMED_MAX_SHIFT = 2;

// ---- CMD ----

/** nfp_asm.h enum cmd_ctx_swap: SWAP 0, SWAP_DEFER1 1, SWAP_DEFER2 2, NO_SWAP 3. */
export const CMD_CTX = { swap: 0, noSwap: 3 } as const;
/** nfp_asm.h enum cmd_mode. */
export const CMD_MODES = codeTable({ addr40_ab: 0, addr40_ba: 1, addr32: 4 });
export type CmdMode = keyof typeof CMD_MODES.code;

/** This project's memory targets: the high 3 bits of TGT_CMD. */
export const CMD_TARGETS = codeTable({ ctm: 0, cls: 1, imem: 2, emem: 3 });
export type MemTarget = keyof typeof CMD_TARGETS.code;
/** This project's command actions: the low 4 bits of TGT_CMD. */
export const CMD_ACTIONS = codeTable({ read32: 0, write32: 1, read8: 2, write8: 3, add32: 4, add64: 5 });
export type CmdAction = keyof typeof CMD_ACTIONS.code;
/** TGT_CMD = target << CMD_TARGET_SHIFT | action (this project's layout of the 7-bit field). */
export const CMD_TARGET_SHIFT = 4;
/** This project's TOKEN values: the byte order of the words a command moves. */
export const CMD_TOKEN = { bigEndian: 0, swap: 1 } as const;
/** Units a command moves without indirection: CNT + 1, CNT being 3 bits. */
export const CMD_MAX_LENGTH = 8;
/** Signals 1..15; 0 means none (nfp_asm.c puts 1 when the context swaps, 0 when it does not). */
export const CMD_MAX_SIG = 15;
/** Length override through the previous ALU result (nfp_asm.h CMD_OVE_LEN, CMD_OV_LEN). */
export const CMD_OVE_LEN = 0x80;
export const CMD_OV_LEN_SHIFT = 8;
export const CMD_OV_LEN_MASK = 0x1f;

// ---- LOCAL_CSR (nfp_asm.h NFP_CSR_*; byte addresses, the field holds address / 4) ----

export const CSRS = codeTable({
  ACT_LM_ADDR0: 0x64, ACT_LM_ADDR1: 0x6c, ACT_LM_ADDR2: 0x94, ACT_LM_ADDR3: 0x9c, PSEUDO_RND_NUM: 0x148,
});
export type CsrName = keyof typeof CSRS.code;
/** CSRs a program may write (PSEUDO_RND_NUM is read-only in this project). */
export const CSR_WRITABLE: Readonly<Record<CsrName, boolean>> = {
  ACT_LM_ADDR0: true, ACT_LM_ADDR1: true, ACT_LM_ADDR2: true, ACT_LM_ADDR3: true, PSEUDO_RND_NUM: false,
};
/** Which LM pointer an ACT_LM_ADDRn CSR sets. */
export const CSR_LM_INDEX: Readonly<Partial<Record<CsrName, number>>> = {
  ACT_LM_ADDR0: 0, ACT_LM_ADDR1: 1, ACT_LM_ADDR2: 2, ACT_LM_ADDR3: 3,
};
/** Instructions between a write of ACT_LM_ADDRn and the first one that may use LM index n (the JIT's 3 nops). */
export const LM_ADDR_WRITE_LATENCY = 3;

// ---- MUL (nfp_asm.h enum mul_type, enum mul_step) ----

export const MUL_TYPES = codeTable({ start: 0, '24x8': 1, '16x16': 2, '32x32': 3 });
export type MulSize = Exclude<keyof typeof MUL_TYPES.code, 'start'>;
export const MUL_SIZES: readonly MulSize[] = ['24x8', '16x16', '32x32'];
/** STEP codes: MUL_STEP_1..4 = 0..3, MUL_LAST 4, MUL_LAST_2 5. */
export const MUL_STEP_LAST = 4;
export const MUL_STEP_LAST2 = 5;
/** Steps a product of each size takes (each step multiplies by one byte of the right operand). */
export const MUL_STEPS: Readonly<Record<MulSize, number>> = { '24x8': 1, '16x16': 2, '32x32': 4 };

/**
 * Where each instruction class keeps its fields in a 64-bit card instruction word.
 *
 * The masks are the ones of the Linux NFP driver's `nfp_asm.h`
 * (drivers/net/ethernet/netronome/nfp/nfp_asm.h, also Netronome/nfp-drv-kmods
 * src/nfp_asm.h): `OP_ALU_*`, `OP_SHF_*`, `OP_LDF_*`, `OP_IMMED_*`, `OP_BR_*`,
 * `OP_BB_*`, `OP_BR_BIT_*`, `OP_BR_ALU_*`, `OP_CMD_*`, `OP_LCSR_*`, `OP_MUL_*`,
 * `OP_CARB_*`. Each class is recognised by `ident` (bits that must equal `value`
 * under `mask`): the header's `*_BASE_MASK` where it has one (BR, BR_BIT, BR_ALU),
 * otherwise the opcode bits above the class's highest field, read off its `*_BASE`.
 * Bits of a word that are neither in `ident.mask` nor in a field are unused and must
 * be zero; bits 45..63 (ECC on the real card) are never stored by this project.
 *
 * Words are `bigint` here: encoding and decoding happen once per image, and the
 * header's masks can be used as they are written. The executor works on decoded
 * instructions, never on words.
 */

/** A field: a contiguous run of set bits within the 45-bit opcode part of a word. */
export type Mask = bigint;
export type FieldTable = Readonly<Record<string, Mask>>;

export interface ClassLayout<F extends FieldTable = FieldTable> {
  /** Bits that identify the class, and their value. */
  readonly ident: { readonly mask: Mask; readonly value: Mask };
  readonly fields: F;
}

/** Width of the opcode part of a word (`NFP_USTORE_OP_BITS` in nfp_asm.c). */
export const OP_BITS = 45;
export const OP_MASK: Mask = (1n << BigInt(OP_BITS)) - 1n;

/** Trailing nops the instruction-store prefetch needs after the last instruction (`NFP_USTORE_PREFETCH_WINDOW`). */
export const USTORE_PREFETCH_WINDOW = 8;

const LMEXTN = { srcLmExtn: 0x40000000000n, dstLmExtn: 0x80000000000n } as const;
const BR_TARGET = { defer: 0x00000300000n, addrLo: 0x007ffc00000n, addrHi: 0x10000000000n } as const;

export const ALU = {
  ident: { mask: 0x0e000000000n, value: 0x0a000000000n },
  fields: {
    aSrc: 0x000000003ffn, bSrc: 0x000000ffc00n, dst: 0x0003ff00000n, sw: 0x00040000000n, op: 0x00f80000000n,
    dstAB: 0x01000000000n, wrAB: 0x20000000000n, ...LMEXTN,
  },
} as const satisfies ClassLayout;

export const ALU_SHF = {
  ident: { mask: 0x0e000000000n, value: 0x08000000000n },
  fields: {
    aSrc: 0x000000000ffn, sc: 0x00000000300n, bSrc: 0x0000003fc00n, i8: 0x00000040000n, sw: 0x00000080000n,
    dst: 0x0000ff00000n, shift: 0x001f0000000n, op: 0x00e00000000n, dstAB: 0x01000000000n, wrAB: 0x20000000000n,
    ...LMEXTN,
  },
} as const satisfies ClassLayout;

export const LD_FIELD = {
  ident: { mask: 0x0f800000000n, value: 0x0c000000000n },
  fields: {
    aSrc: 0x000000000ffn, sc: 0x00000000300n, bSrc: 0x0000003fc00n, i8: 0x00000040000n, sw: 0x00000080000n,
    zf: 0x00000100000n, bmask: 0x0000f000000n, shift: 0x001f0000000n, wrAB: 0x20000000000n, ...LMEXTN,
  },
} as const satisfies ClassLayout;

export const IMMED = {
  ident: { mask: 0x0f800000000n, value: 0x0f000000000n },
  fields: {
    aSrc: 0x000000003ffn, bSrc: 0x000000ffc00n, imm: 0x0000ff00000n, width: 0x00060000000n, inv: 0x00080000000n,
    shift: 0x00600000000n, wrAB: 0x20000000000n, ...LMEXTN,
  },
} as const satisfies ClassLayout;

export const BR = {
  ident: { mask: 0x0f8000c3ce0n, value: 0x0d800000020n },
  fields: { cond: 0x0000000001fn, evPip: 0x00000000300n, css: 0x0000003c000n, ...BR_TARGET },
} as const satisfies ClassLayout;

export const BR_BYTE = {
  ident: { mask: 0x0f800000000n, value: 0x0c800000000n },
  fields: {
    aSrc: 0x000000000ffn, byte: 0x00000000300n, bSrc: 0x0000003fc00n, i8: 0x00000040000n, eq: 0x00000080000n,
    ...BR_TARGET, srcLmExtn: LMEXTN.srcLmExtn,
  },
} as const satisfies ClassLayout;

export const BR_BIT = {
  ident: { mask: 0x0f800080300n, value: 0x0d000000000n },
  fields: {
    aSrc: 0x000000000ffn, bSrc: 0x0000003fc00n, bv: 0x00000040000n, ...BR_TARGET, srcLmExtn: LMEXTN.srcLmExtn,
  },
} as const satisfies ClassLayout;

export const BR_ALU = {
  ident: { mask: 0x0ff80000000n, value: 0x0e800000000n },
  fields: {
    aSrc: 0x000000003ffn, bSrc: 0x000000ffc00n, defer: 0x00000300000n, immHi: 0x0007fc00000n, ...LMEXTN,
  },
} as const satisfies ClassLayout;

export const CMD = {
  ident: { mask: 0x08000000000n, value: 0x00000000000n },
  fields: {
    aSrc: 0x000000000ffn, ctx: 0x00000000300n, bSrc: 0x0000003fc00n, token: 0x000000c0000n, xfer: 0x00001f00000n,
    cnt: 0x0000e000000n, sig: 0x000f0000000n, tgtCmd: 0x07f00000000n, indir: 0x20000000000n, mode: 0x1c0000000000n,
  },
} as const satisfies ClassLayout;

export const LOCAL_CSR = {
  ident: { mask: 0x0fc00000000n, value: 0x0fc00000000n },
  fields: { aSrc: 0x000000003ffn, bSrc: 0x000000ffc00n, write: 0x00000200000n, addr: 0x001ffc00000n, ...LMEXTN },
} as const satisfies ClassLayout;

export const MUL = {
  ident: { mask: 0x0fc00000000n, value: 0x0f800000000n },
  fields: {
    aSrc: 0x000000003ffn, bSrc: 0x000000ffc00n, step: 0x00000700000n, dstAB: 0x00000800000n, sw: 0x00040000000n,
    type: 0x00180000000n, wrAB: 0x20000000000n, ...LMEXTN,
  },
} as const satisfies ClassLayout;

/** Context arbitration: in the header, not in this project's machine (a word of this class is refused). */
export const CARB = {
  ident: { mask: 0x0f800000000n, value: 0x0e000000000n },
  fields: { or: 0x00000010000n },
} as const satisfies ClassLayout;

export type IsaClass =
  | 'alu' | 'alu_shf' | 'ld_field' | 'immed' | 'br' | 'br_byte' | 'br_bit' | 'br_alu' | 'cmd' | 'local_csr' | 'mul';

/** Every class's layout, the refused CARB included: the table `classOf` searches. */
export const LAYOUTS = {
  alu: ALU, alu_shf: ALU_SHF, ld_field: LD_FIELD, immed: IMMED, br: BR, br_byte: BR_BYTE, br_bit: BR_BIT,
  br_alu: BR_ALU, cmd: CMD, local_csr: LOCAL_CSR, mul: MUL, carb: CARB,
} as const satisfies Record<IsaClass | 'carb', ClassLayout>;

export type LayoutName = keyof typeof LAYOUTS;

/** Position of a mask's lowest set bit. */
export function maskShift(mask: Mask): number {
  let s = 0;
  while (((mask >> BigInt(s)) & 1n) === 0n) s++;
  return s;
}

/** Largest value a field holds. */
export const fieldMax = (mask: Mask): number => Number(mask >> BigInt(maskShift(mask)));

/** The value of a field of a word. */
export function getField(word: bigint, mask: Mask): number {
  return Number((word & mask) >> BigInt(maskShift(mask)));
}

/** A boolean (one-bit) field. */
export const getFlag = (word: bigint, mask: Mask): boolean => (word & mask) !== 0n;

/**
 * A field placed at its position; `fail` names the field when the value does not fit
 * (encoders check operands first, so this is the last line of defence, not the message users see).
 */
export function putField(mask: Mask, value: number | boolean, name: string, fail: (reason: string) => never): bigint {
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  if (!Number.isInteger(v) || v < 0 || v > fieldMax(mask)) fail(`${name} ${v} does not fit its field (0..${fieldMax(mask)})`);
  return BigInt(v) << BigInt(maskShift(mask));
}

/** Every bit a class uses: its identifying bits and its fields. */
export function usedBits(layout: ClassLayout): Mask {
  let m = layout.ident.mask;
  for (const f of Object.values(layout.fields)) m |= f;
  return m;
}

/** The layout whose identifying bits a word carries, if any (the idents are disjoint). */
export function classOf(word: bigint): LayoutName | undefined {
  for (const [name, layout] of Object.entries(LAYOUTS) as [LayoutName, ClassLayout][]) {
    if ((word & layout.ident.mask) === layout.ident.value) return name;
  }
  return undefined;
}

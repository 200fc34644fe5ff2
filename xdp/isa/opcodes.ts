/**
 * The eBPF opcode space as RFC 9669 ("BPF Instruction Set Architecture") defines it:
 * the 8-bit opcode is split into class (low 3 bits) and, per class family, an
 * operation/source pair (arithmetic and jumps) or a mode/size pair (loads and stores).
 * Names and numbers only; what they mean lives with the engines.
 */

export const Class = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** Source bit of arithmetic and jump opcodes (RFC 9669 §3.3). */
export const Src = { K: 0x00, X: 0x08 } as const;

/** Arithmetic operations, the high nibble of ALU/ALU64 opcodes (RFC 9669 §4.1). */
export const AluOp = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
  END: 0xd0,
} as const;

/** Jump operations, the high nibble of JMP/JMP32 opcodes (RFC 9669 §4.3). */
export const JmpOp = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
  /** Kernel extension beyond RFC 9669: BPF_JCOND, whose only form (src 0) is `may_goto`. */
  JCOND: 0xe0,
} as const;

/** Access size of load/store opcodes (RFC 9669 §5.1). */
export const Size = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

/** Bytes moved by each size code. */
export const SIZE_BYTES: Readonly<Record<number, 1 | 2 | 4 | 8>> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };

/** Mode of load/store opcodes (RFC 9669 §5.1). */
export const Mode = {
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  MEMSX: 0x80,
  ATOMIC: 0xc0,
} as const;

/** Atomic operations carried in the imm field of ATOMIC stores (RFC 9669 §5.3). */
export const AtomicOp = {
  ADD: 0x00,
  OR: 0x40,
  AND: 0x50,
  XOR: 0xa0,
  FETCH: 0x01,
  XCHG: 0xe1,
  CMPXCHG: 0xf1,
} as const;

/** Source field of `lddw` (RFC 9669 §5.4; the kernel's BPF_PSEUDO_* names). */
export const LddwSrc = {
  IMM64: 0,
  MAP_FD: 1,
  MAP_VALUE: 2,
  BTF_ID: 3,
  FUNC: 4,
  MAP_IDX: 5,
  MAP_IDX_VALUE: 6,
} as const;

/** Source field of `call` (RFC 9669 §4.3.1). */
export const CallSrc = { HELPER: 0, LOCAL: 1, KFUNC: 2 } as const;

export const OPCODE_LDDW = Class.LD | Mode.IMM | Size.DW; // 0x18

export const classOf = (code: number): number => code & 0x07;
export const isAluClass = (cls: number): boolean => cls === Class.ALU || cls === Class.ALU64;
export const isJmpClass = (cls: number): boolean => cls === Class.JMP || cls === Class.JMP32;
export const opOf = (code: number): number => code & 0xf0;
export const srcOf = (code: number): number => code & 0x08;
export const sizeOf = (code: number): number => code & 0x18;
export const modeOf = (code: number): number => code & 0xe0;

/** Registers r0..r10; r10 is the read-only frame pointer. */
export const REG_COUNT = 11;
export const FRAME_POINTER = 10;

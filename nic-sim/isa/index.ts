/**
 * The card's instruction set (NFP-shaped; docs/nic-isa.md): decoded instructions,
 * their 64-bit encoding, the disassembler and the assembler. What an image holds —
 * nothing here knows the JIT.
 */
export * from './instructions.js';
export * from './operands.js';
export * from './tables.js';
export { IsaError, type IsaErrorKind } from './errors.js';
export { OP_BITS, OP_MASK, USTORE_PREFETCH_WINDOW, LAYOUTS, classOf, getField, type IsaClass } from './fields.js';
export { encodeInsn, encodeProgram } from './encode.js';
export { decodeWord, decodeProgram } from './decode.js';
export { disasmInsn, disasmProgram, disasmWords, type DisasmOptions } from './disasm.js';
export { assemble, assembleWithLabels, assembleWords, type AsmOptions, type AsmResult } from './assembler.js';
export { xferWords } from './codec-cmd.js';

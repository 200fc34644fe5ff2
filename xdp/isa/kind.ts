/**
 * What an instruction does, read off its opcode and fields as RFC 9669 defines them.
 * `kindOf` returns a small tagged value (or an `invalid` kind naming the reason), so
 * the disassembler, the engines and the verifier switch on meaning, not on bit masks.
 */
import type { Insn } from './insn.js';
import {
  AluOp, AtomicOp, CallSrc, Class, JmpOp, LddwSrc, Mode, OPCODE_LDDW, SIZE_BYTES, Src,
  classOf, modeOf, opOf, sizeOf, srcOf,
} from './opcodes.js';

export type Width = 32 | 64;
export type AccessSize = 1 | 2 | 4 | 8;

export type AluName =
  | 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'or' | 'and' | 'lsh' | 'rsh' | 'neg'
  | 'mod' | 'smod' | 'xor' | 'mov' | 'movsx' | 'arsh';

export type JmpName =
  | 'jeq' | 'jgt' | 'jge' | 'jset' | 'jne' | 'jsgt' | 'jsge' | 'jlt' | 'jle' | 'jslt' | 'jsle';

export type AtomicName = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg';

export type InsnKind =
  /** dst = dst op (src | imm); `movsx` sign-extends the low `fromBits` of the source. */
  | { k: 'alu'; width: Width; op: AluName; useReg: boolean; fromBits?: 8 | 16 | 32 }
  /** Byte order conversion: `le`/`be` (ALU class) or unconditional `bswap` (ALU64 class). */
  | { k: 'end'; order: 'le' | 'be' | 'bswap'; bits: 16 | 32 | 64 }
  /** Unconditional jump; `long` is JMP32 `gotol` with the offset in imm. */
  | { k: 'ja'; long: boolean }
  | { k: 'jcond'; width: Width; op: JmpName; useReg: boolean }
  /**
   * `may_goto +off` (Linux's BPF_JCOND, src BPF_MAY_GOTO): falls through while the program's
   * loop budget lasts, jumps once it is spent.
   */
  | { k: 'maygoto' }
  | { k: 'call'; target: 'helper' | 'local' | 'kfunc' | 'reg' }
  | { k: 'exit' }
  | { k: 'lddw'; pseudo: number }
  /** Legacy packet loads (BPF_ABS/BPF_IND) of socket filters. */
  | { k: 'ldpkt'; indirect: boolean; size: AccessSize }
  | { k: 'ldx'; size: AccessSize; signed: boolean }
  | { k: 'st'; size: AccessSize }
  | { k: 'stx'; size: AccessSize }
  | { k: 'atomic'; size: 4 | 8; op: AtomicName; fetch: boolean }
  | { k: 'invalid'; reason: string };

const ALU_NAMES: Readonly<Record<number, AluName>> = {
  [AluOp.ADD]: 'add', [AluOp.SUB]: 'sub', [AluOp.MUL]: 'mul', [AluOp.DIV]: 'div', [AluOp.OR]: 'or',
  [AluOp.AND]: 'and', [AluOp.LSH]: 'lsh', [AluOp.RSH]: 'rsh', [AluOp.NEG]: 'neg', [AluOp.MOD]: 'mod',
  [AluOp.XOR]: 'xor', [AluOp.MOV]: 'mov', [AluOp.ARSH]: 'arsh',
};

const JMP_NAMES: Readonly<Record<number, JmpName>> = {
  [JmpOp.JEQ]: 'jeq', [JmpOp.JGT]: 'jgt', [JmpOp.JGE]: 'jge', [JmpOp.JSET]: 'jset', [JmpOp.JNE]: 'jne',
  [JmpOp.JSGT]: 'jsgt', [JmpOp.JSGE]: 'jsge', [JmpOp.JLT]: 'jlt', [JmpOp.JLE]: 'jle', [JmpOp.JSLT]: 'jslt',
  [JmpOp.JSLE]: 'jsle',
};

const ATOMIC_NAMES: Readonly<Record<number, { op: AtomicName; fetch: boolean }>> = {
  [AtomicOp.ADD]: { op: 'add', fetch: false },
  [AtomicOp.OR]: { op: 'or', fetch: false },
  [AtomicOp.AND]: { op: 'and', fetch: false },
  [AtomicOp.XOR]: { op: 'xor', fetch: false },
  [AtomicOp.ADD | AtomicOp.FETCH]: { op: 'add', fetch: true },
  [AtomicOp.OR | AtomicOp.FETCH]: { op: 'or', fetch: true },
  [AtomicOp.AND | AtomicOp.FETCH]: { op: 'and', fetch: true },
  [AtomicOp.XOR | AtomicOp.FETCH]: { op: 'xor', fetch: true },
  [AtomicOp.XCHG]: { op: 'xchg', fetch: true },
  [AtomicOp.CMPXCHG]: { op: 'cmpxchg', fetch: true },
};

const invalid = (reason: string): InsnKind => ({ k: 'invalid', reason });

function aluKind(insn: Insn, width: Width): InsnKind {
  const op = opOf(insn.code);
  const useReg = srcOf(insn.code) === Src.X;
  if (op === AluOp.END) {
    if (insn.imm !== 16 && insn.imm !== 32 && insn.imm !== 64) return invalid(`byte swap width ${insn.imm}`);
    if (width === 64 && useReg) return invalid('ALU64 END with source X is reserved');
    const order = width === 64 ? 'bswap' : useReg ? 'be' : 'le';
    return { k: 'end', order, bits: insn.imm };
  }
  const name = ALU_NAMES[op];
  if (name === undefined) return invalid(`unknown ALU operation 0x${op.toString(16)}`);
  if ((op === AluOp.DIV || op === AluOp.MOD) && insn.off === 1) {
    return { k: 'alu', width, op: op === AluOp.DIV ? 'sdiv' : 'smod', useReg };
  }
  if (op === AluOp.MOV && useReg && (insn.off === 8 || insn.off === 16 || (insn.off === 32 && width === 64))) {
    return { k: 'alu', width, op: 'movsx', useReg, fromBits: insn.off };
  }
  return { k: 'alu', width, op: name, useReg };
}

function jmpKind(insn: Insn, width: Width): InsnKind {
  const op = opOf(insn.code);
  const useReg = srcOf(insn.code) === Src.X;
  switch (op) {
    case JmpOp.JA:
      return useReg ? invalid('JA with source X') : { k: 'ja', long: width === 32 };
    case JmpOp.CALL: {
      if (width === 32) return invalid('CALL in the JMP32 class');
      if (useReg) return { k: 'call', target: 'reg' };
      const target = insn.src === CallSrc.HELPER ? 'helper' : insn.src === CallSrc.LOCAL ? 'local'
        : insn.src === CallSrc.KFUNC ? 'kfunc' : undefined;
      return target ? { k: 'call', target } : invalid(`call with unknown source ${insn.src}`);
    }
    case JmpOp.EXIT:
      return width === 32 ? invalid('EXIT in the JMP32 class') : { k: 'exit' };
    case JmpOp.JCOND:
      return width === 64 && !useReg && insn.src === 0 ? { k: 'maygoto' } : invalid('JCOND other than may_goto');
    default: {
      const name = JMP_NAMES[op];
      return name ? { k: 'jcond', width, op: name, useReg } : invalid(`unknown jump operation 0x${op.toString(16)}`);
    }
  }
}

function memKind(insn: Insn): InsnKind {
  const cls = classOf(insn.code);
  const mode = modeOf(insn.code);
  const size = SIZE_BYTES[sizeOf(insn.code)]!;
  switch (cls) {
    case Class.LD:
      if (insn.code === OPCODE_LDDW) {
        return insn.src <= LddwSrc.MAP_IDX_VALUE ? { k: 'lddw', pseudo: insn.src } : invalid(`lddw source ${insn.src}`);
      }
      if ((mode === Mode.ABS || mode === Mode.IND) && size !== 8) return { k: 'ldpkt', indirect: mode === Mode.IND, size };
      return invalid('unknown LD mode');
    case Class.LDX:
      if (mode === Mode.MEM) return { k: 'ldx', size, signed: false };
      if (mode === Mode.MEMSX && size !== 8) return { k: 'ldx', size, signed: true };
      return invalid('unknown LDX mode');
    case Class.ST:
      return mode === Mode.MEM ? { k: 'st', size } : invalid('unknown ST mode');
    default: // STX
      if (mode === Mode.MEM) return { k: 'stx', size };
      if (mode === Mode.ATOMIC && (size === 4 || size === 8)) {
        const a = ATOMIC_NAMES[insn.imm];
        return a ? { k: 'atomic', size, ...a } : invalid(`unknown atomic operation 0x${(insn.imm >>> 0).toString(16)}`);
      }
      return invalid('unknown STX mode');
  }
}

export function kindOf(insn: Insn): InsnKind {
  const cls = classOf(insn.code);
  switch (cls) {
    case Class.ALU: return aluKind(insn, 32);
    case Class.ALU64: return aluKind(insn, 64);
    case Class.JMP: return jmpKind(insn, 64);
    case Class.JMP32: return jmpKind(insn, 32);
    default: return memKind(insn);
  }
}

/** Is the instruction a jump with a target inside the program (not call/exit)? */
export function jumpOffset(insn: Insn, kind: InsnKind = kindOf(insn)): number | undefined {
  if (kind.k === 'ja') return kind.long ? insn.imm : insn.off;
  if (kind.k === 'jcond' || kind.k === 'maygoto') return insn.off;
  return undefined;
}

/**
 * The field the kernel's verifier would call reserved-but-set for this instruction
 * ("BPF_ALU uses reserved fields", "BPF_EXIT uses reserved fields", ...), or
 * undefined when every unused field is zero as RFC 9669 requires.
 */
export function reservedFieldIssue(insn: Insn, kind: InsnKind = kindOf(insn)): string | undefined {
  const { dst, src, off, imm } = insn;
  const useReg = srcOf(insn.code) === Src.X;
  switch (kind.k) {
    case 'alu':
      if (kind.op === 'neg') return useReg || src !== 0 || off !== 0 || imm !== 0 ? 'BPF_NEG uses reserved fields' : undefined;
      {
        const what = kind.op === 'mov' || kind.op === 'movsx' ? 'BPF_MOV' : 'BPF_ALU';
        if (useReg) return imm !== 0 || (off !== 0 && kind.op !== 'sdiv' && kind.op !== 'smod' && kind.op !== 'movsx') ? `${what} uses reserved fields` : undefined;
        return src !== 0 || (off !== 0 && kind.op !== 'sdiv' && kind.op !== 'smod') ? `${what} uses reserved fields` : undefined;
      }
    case 'end':
      return src !== 0 || off !== 0 ? 'BPF_END uses reserved fields' : undefined;
    case 'ja':
      return src !== 0 || dst !== 0 || (kind.long ? off !== 0 : imm !== 0) ? 'BPF_JA uses reserved fields' : undefined;
    case 'jcond':
      return useReg ? (imm !== 0 ? 'BPF_JMP/JMP32 uses reserved fields' : undefined) : src !== 0 ? 'BPF_JMP/JMP32 uses reserved fields' : undefined;
    case 'maygoto':
      return dst !== 0 || imm !== 0 ? `invalid may_goto off ${off} imm ${imm}` : undefined;
    case 'call':
      if (kind.target === 'reg') return src !== 0 || off !== 0 || imm !== 0 ? 'BPF_CALL uses reserved fields' : undefined;
      return off !== 0 || dst !== 0 || (kind.target === 'helper' && src !== 0) ? 'BPF_CALL uses reserved fields' : undefined;
    case 'exit':
      return useReg || src !== 0 || dst !== 0 || off !== 0 || imm !== 0 ? 'BPF_EXIT uses reserved fields' : undefined;
    case 'lddw': {
      const n = insn.next;
      return off !== 0 || !n || n.code !== 0 || n.dst !== 0 || n.src !== 0 || n.off !== 0 ? 'invalid bpf_ld_imm64 insn' : undefined;
    }
    case 'ldpkt':
      return dst !== 0 || off !== 0 || (kind.indirect ? false : src !== 0) ? 'BPF_LD_[ABS|IND] uses reserved fields' : undefined;
    case 'ldx':
      return imm !== 0 ? 'BPF_LDX uses reserved fields' : undefined;
    case 'st':
      return src !== 0 ? 'BPF_ST uses reserved fields' : undefined;
    case 'stx':
      return imm !== 0 ? 'BPF_STX uses reserved fields' : undefined;
    case 'atomic':
    case 'invalid':
      return undefined;
  }
}

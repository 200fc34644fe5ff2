/**
 * Instruction text in llvm-objdump's BPF syntax (`r0 = *(u32 *)(r1 + 4)`,
 * `if r3 > r2 goto +21`, `lock *(u64 *)(r0 + 0) += r1`, `r1 = 0 ll`), so our
 * listings can be diffed against `llvm-objdump -d`. Instructions that LLVM 14
 * does not know yet (cpu v4: sdiv/smod, movsx, bswap, sign-extending loads,
 * gotol) use the syntax later LLVM releases print.
 */
import type { Insn } from './insn.js';
import { lddwValue } from './insn.js';
import { kindOf, type AluName, type InsnKind, type JmpName } from './kind.js';
import { Class, JmpOp } from './opcodes.js';

const ALU_TEXT: Readonly<Record<Exclude<AluName, 'neg' | 'movsx'>, string>> = {
  add: '+=', sub: '-=', mul: '*=', div: '/=', sdiv: 's/=', or: '|=', and: '&=', lsh: '<<=', rsh: '>>=',
  mod: '%=', smod: 's%=', xor: '^=', mov: '=', arsh: 's>>=',
};

const JMP_TEXT: Readonly<Record<JmpName, string>> = {
  jeq: '==', jgt: '>', jge: '>=', jset: '&', jne: '!=', jsgt: 's>', jsge: 's>=', jlt: '<', jle: '<=',
  jslt: 's<', jsle: 's<=',
};

const SIZE_TEXT: Readonly<Record<number, string>> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };

const signedOff = (off: number): string => (off < 0 ? `- ${-off}` : `+ ${off}`);
const mem = (reg: number, off: number): string => `r${reg} ${signedOff(off)}`;
const rel = (off: number): string => (off < 0 ? `${off}` : `+${off}`);

/** Text of one instruction; `kind` may be passed when the caller already has it. */
export function formatInsn(insn: Insn, kind: InsnKind = kindOf(insn)): string {
  const { dst, src, off, imm } = insn;
  switch (kind.k) {
    case 'alu': {
      const r = kind.width === 64 ? 'r' : 'w';
      if (kind.op === 'neg') return `${r}${dst} = -${r}${dst}`;
      if (kind.op === 'movsx') return `${r}${dst} = (s${kind.fromBits})${r}${src}`;
      return `${r}${dst} ${ALU_TEXT[kind.op]} ${kind.useReg ? `${r}${src}` : imm}`;
    }
    case 'end':
      return `r${dst} = ${kind.order}${kind.bits} r${dst}`;
    case 'ja':
      return kind.long ? `gotol ${rel(imm)}` : `goto ${rel(off)}`;
    case 'jcond': {
      const r = kind.width === 64 ? 'r' : 'w';
      return `if ${r}${dst} ${JMP_TEXT[kind.op]} ${kind.useReg ? `${r}${src}` : imm} goto ${rel(off)}`;
    }
    case 'maygoto':
      return `may_goto ${rel(off)}`;
    case 'call':
      return kind.target === 'reg' ? `callx r${dst}` : `call ${imm}`;
    case 'exit':
      return 'exit';
    case 'lddw':
      return `r${dst} = ${BigInt.asIntN(64, lddwValue(insn))} ll`;
    case 'ldpkt':
      return `r0 = *(${SIZE_TEXT[kind.size]} *)skb[${kind.indirect ? `r${src}` : imm}]`;
    case 'ldx':
      return `r${dst} = *(${kind.signed ? 's' : 'u'}${kind.size * 8} *)(${mem(src, off)})`;
    case 'st':
      return `*(${SIZE_TEXT[kind.size]} *)(${mem(dst, off)}) = ${imm}`;
    case 'stx':
      return `*(${SIZE_TEXT[kind.size]} *)(${mem(dst, off)}) = r${src}`;
    case 'atomic':
      return formatAtomic(insn, kind);
    case 'invalid':
      // A call with an unknown source field still reads as a call, as LLVM prints it.
      return insn.code === (Class.JMP | JmpOp.CALL) ? `call ${imm}` : '<unknown>';
  }
}

function formatAtomic(insn: Insn, kind: Extract<InsnKind, { k: 'atomic' }>): string {
  const { dst, src, off } = insn;
  const bits = kind.size * 8;
  const r = kind.size === 8 ? 'r' : 'w';
  const at = mem(dst, off);
  if (kind.op === 'xchg') return kind.size === 8 ? `r${src} = xchg_64(${at}, r${src})` : `w${src} = xchg32_32(${at}, w${src})`;
  if (kind.op === 'cmpxchg') {
    return kind.size === 8 ? `r0 = cmpxchg_64(${at}, r0, r${src})` : `w0 = cmpxchg32_32(${at}, w0, w${src})`;
  }
  if (kind.fetch) return `${r}${src} = atomic_fetch_${kind.op}((u${bits} *)(${at}), ${r}${src})`;
  const sym = { add: '+=', or: '|=', and: '&=', xor: '^=' }[kind.op];
  // LLVM prints the 32-bit add (the old XADDW) with a 64-bit register name, the newer 32-bit and/or/xor with w.
  const reg = kind.size === 4 && kind.op !== 'add' ? `w${src}` : `r${src}`;
  return `lock *(u${bits} *)(${at}) ${sym} ${reg}`;
}

/** The instruction's bytes as llvm-objdump shows them: hex pairs separated by spaces. */
export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

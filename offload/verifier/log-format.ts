/**
 * The verifier log's lines as the kernel prints them (kernel/bpf/disasm.c
 * print_bpf_insn, and verifier.c print_insn_state / print_verifier_state):
 * instructions in the kernel's own notation (`*(u32 *)(r1 +4)`, `goto pc+13`,
 * `if r1 == 0x0`, `call bpf_map_lookup_elem#1`), then, aligned in a column, the
 * registers the instruction touched.
 */
import type { Insn } from '../../xdp/isa/insn.js';
import { formatInsn } from '../../xdp/isa/disasm.js';
import type { InsnKind } from '../../xdp/isa/kind.js';
import { helperName } from '../../xdp/helpers/helper-registry.js';

const rel = (n: number): string => `pc${n >= 0 ? '+' : ''}${n}`;
const hex = (v: number): string => (v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);

/** One instruction in the kernel's notation; `mapName` names the map an lddw refers to. */
export function kernelInsnText(insn: Insn, k: InsnKind, mapName: (i: number) => string): string {
  switch (k.k) {
    case 'ja':
      return `goto ${rel(k.long ? insn.imm : insn.off)}`;
    case 'jcond': {
      const r = k.width === 64 ? 'r' : 'w';
      const text = formatInsn(insn, k).replace(/ goto [+-]\d+$/, ` goto ${rel(insn.off)}`);
      return k.useReg ? text : text.replace(new RegExp(`^(if ${r}${insn.dst} \\S+) -?\\d+`), `$1 ${hex(insn.imm)}`);
    }
    case 'maygoto':
      return `may_goto ${rel(insn.off)}`;
    case 'call':
      if (k.target === 'helper') return `call ${helperName(insn.imm) ?? 'unknown'}#${insn.imm}`;
      if (k.target === 'local') return `call ${rel(insn.imm)}`;
      return formatInsn(insn, k);
    case 'lddw':
      if (k.pseudo === 1 || k.pseudo === 5) return `r${insn.dst} = map[${mapName(insn.imm)}]`;
      if (k.pseudo === 2 || k.pseudo === 6) return `r${insn.dst} = map[${mapName(insn.imm)}]+${insn.next!.imm}`;
      return formatInsn(insn, k).replace(/ ll$/, '');
    default:
      // Memory operands: `(r1 +4)`, `(r10 -8)`.
      return formatInsn(insn, k).replace(/\((r\d+) ([+-]) (\d+)\)/g, '($1 $2$3)');
  }
}

/** The column the register states start in after an instruction line of `length` characters. */
export function stateColumn(length: number): number {
  return Math.ceil(Math.max(length + 4, 40) / 8) * 8 - 2;
}

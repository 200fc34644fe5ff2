/**
 * A linked program as a reader wants to see it, in the manner of `llvm-objdump -S`
 * and `bpftool prog dump xlated linum`: instructions in llvm-objdump syntax with
 * map references, helper names, kfunc names and subprogram calls resolved, interleaved with the
 * C source line (from BTF line info) each run of instructions came from.
 */
import { formatInsn } from '../isa/disasm.js';
import { lddwValue, type Insn } from '../isa/insn.js';
import { jumpOffset, kindOf } from '../isa/kind.js';
import { LddwSrc } from '../isa/opcodes.js';
import { helperName } from '../helpers/helper-registry.js';
import type { MapDef, Program, SourcePosition } from './bpf-object.js';

/** Instruction text with what the linked program knows: map names, helper names, call targets. */
export function describeInsn(program: Program, index: number, maps: readonly MapDef[]): string {
  const insn = program.insns[index]!;
  const slot = program.slots[index]!;
  const kind = kindOf(insn);
  if (kind.k === 'lddw') return lddwText(insn, kind.pseudo, maps, program, slot);
  if (kind.k === 'call') {
    if (kind.target === 'helper') {
      const name = helperName(insn.imm);
      return name ? `call ${name}#${insn.imm}` : `call ${insn.imm}`;
    }
    if (kind.target === 'local') return `call ${rel(insn.imm)} <${funcAt(program, slot + insn.imm + 1)}>`;
    if (kind.target === 'kfunc') {
      const k = program.kfuncs?.[insn.imm];
      return k ? `call ${k.name} (kfunc${k.weak ? ', weak' : ''})` : `call kfunc #${insn.imm}`;
    }
  }
  const text = formatInsn(insn, kind);
  const off = jumpOffset(insn, kind);
  return off === undefined ? text : `${text} <${slot + off + 1}>`;
}

const rel = (n: number): string => (n < 0 ? `${n}` : `+${n}`);

function funcAt(program: Program, slot: number): string {
  return program.funcs.find((f) => f.slot === slot)?.name ?? `slot ${slot}`;
}

function lddwText(insn: Insn, pseudo: number, maps: readonly MapDef[], program: Program, slot: number): string {
  const mapName = (i: number) => maps[i]?.name ?? `#${i}`;
  switch (pseudo) {
    case LddwSrc.MAP_IDX:
      return `r${insn.dst} = map[${mapName(insn.imm)}] ll`;
    case LddwSrc.MAP_IDX_VALUE:
      return `r${insn.dst} = map[${mapName(insn.imm)}] + ${insn.next?.imm ?? 0} ll`;
    case LddwSrc.FUNC:
      return `r${insn.dst} = func <${funcAt(program, slot + insn.imm + 1)}> ll`;
    case LddwSrc.IMM64:
      return formatInsn(insn);
    default:
      return `r${insn.dst} = ${BigInt.asIntN(64, lddwValue(insn))} ll (pseudo ${pseudo})`;
  }
}

const sourceComment = (p: SourcePosition): string => `; ${p.text.trim()}  @ ${p.file}:${p.line}:${p.col}`;

export interface ListingOptions {
  /** Print C source lines (default true). */
  source?: boolean;
}

/** The whole program: function headings, source lines, instructions by slot. */
export function programListing(program: Program, maps: readonly MapDef[], opts: ListingOptions = {}): string {
  const lines: string[] = [];
  const withSource = opts.source ?? true;
  let last: SourcePosition | undefined;
  program.insns.forEach((_, i) => {
    const func = program.funcs.find((f) => f.start === i);
    if (func) {
      lines.push('', `${func.name}:${func.section !== program.section ? `  (subprogram from ${func.section})` : ''}`);
      last = undefined;
    }
    const pos = program.lines[i];
    const moved = pos !== undefined && (pos.line !== last?.line || pos.file !== last.file);
    if (withSource && moved && pos.line > 0) lines.push(sourceComment(pos));
    if (pos) last = pos;
    lines.push(`${String(program.slots[i]).padStart(6)}: ${describeInsn(program, i, maps)}`);
  });
  return lines.join('\n');
}

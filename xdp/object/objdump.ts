/**
 * A listing of an object's code sections in the layout of `llvm-objdump -d [-r]`
 * (section banners, symbol headings, slot numbers, raw bytes, branch targets
 * named by the symbol at the target), so that it can be compared line by line
 * with LLVM's own output and read by anyone used to it.
 */
import type { ElfFile, ElfSymbol } from '../elf/elf.js';
import { STT } from '../elf/elf.js';
import { formatInsn, hexBytes } from '../isa/disasm.js';
import { INSN_BYTES, slotCount } from '../isa/insn.js';
import { jumpOffset, kindOf } from '../isa/kind.js';
import { readCodeSections, RELOC_NAMES } from './code-sections.js';

export interface ObjdumpOptions {
  /** Show relocation records under the instruction they patch (`-r`). */
  relocs?: boolean;
}

const hex16 = (n: number): string => n.toString(16).padStart(16, '0');

/** Symbols that label code addresses (functions and local labels such as LBB0_2). */
function labelSymbols(elf: ElfFile, sectionIndex: number): Map<number, ElfSymbol[]> {
  const out = new Map<number, ElfSymbol[]>();
  for (const s of elf.symbols) {
    if (s.shndx !== sectionIndex || s.type === STT.SECTION || s.type === STT.FILE || s.name === '') continue;
    const list = out.get(s.value) ?? [];
    list.push(s);
    out.set(s.value, list);
  }
  return out;
}

/**
 * ` <sym>` or ` <sym+0x10>`: the nearest label at or before a branch target, as llvm-objdump
 * names it (addresses compared as unsigned 64-bit, so a target before the section start wraps).
 */
function targetLabel(sorted: readonly (readonly [number, ElfSymbol[]])[], address: number): string {
  const target = BigInt.asUintN(64, BigInt(address));
  let best: readonly [number, ElfSymbol[]] | undefined;
  for (const entry of sorted) {
    if (BigInt(entry[0]) > target) break;
    best = entry;
  }
  if (!best) return '';
  const name = best[1][best[1].length - 1]!.name;
  const delta = target - BigInt(best[0]);
  return delta === 0n ? ` <${name}>` : ` <${name}+0x${delta.toString(16)}>`;
}

export function objdumpListing(elf: ElfFile, displayName: string, opts: ObjdumpOptions = {}): string {
  const lines: string[] = ['', `${displayName}:\tfile format elf64-bpf`, ''];
  for (const cs of readCodeSections(elf).values()) {
    const labels = labelSymbols(elf, cs.section.index);
    const sortedLabels = [...labels].sort((a, b) => a[0] - b[0]);
    lines.push(`Disassembly of section ${cs.section.name}:`);
    if (!labels.has(0)) lines.push('', `${hex16(0)} <${cs.section.name}>:`);
    const raw = cs.section.data;
    cs.insns.forEach((insn, i) => {
      const slot = cs.slots[i]!;
      for (const sym of labels.get(slot * INSN_BYTES) ?? []) lines.push('', `${hex16(slot * INSN_BYTES)} <${sym.name}>:`);
      const kind = kindOf(insn);
      let text = formatInsn(insn, kind);
      const off = jumpOffset(insn, kind);
      if (off !== undefined) text += targetLabel(sortedLabels, (slot + off + 1) * INSN_BYTES);
      const bytes = raw.subarray(slot * INSN_BYTES, (slot + slotCount(insn)) * INSN_BYTES);
      lines.push(`${String(slot).padStart(8)}:\t${hexBytes(bytes)}\t${text}`);
      const rel = opts.relocs ? cs.relocs.get(slot) : undefined;
      if (rel) {
        const sym = elf.symbols[rel.symbol]!;
        const name = sym.type === STT.SECTION ? elf.sections[sym.shndx]?.name ?? '' : sym.name;
        lines.push(`\t\t${hex16(rel.offset)}:  ${RELOC_NAMES[rel.type] ?? rel.type}\t${name}`);
      }
    });
    lines.push('');
  }
  return lines.join('\n');
}

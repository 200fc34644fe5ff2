/**
 * The executable sections of an object, decoded: their instructions indexed by
 * slot, the functions the symbol table places in them, and their relocations
 * checked against the instructions they patch (R_BPF_64_64 on an `lddw`,
 * R_BPF_64_32 on a `call`, per the kernel's Documentation/bpf/llvm_reloc.rst).
 */
import { ObjectFormatError } from '../errors.js';
import { SHF_EXECINSTR, SHT, STB, STT, type ElfFile, type ElfRelocation, type ElfSection } from '../elf/elf.js';
import { decode, slotIndices, type Insn } from '../isa/insn.js';
import { JmpOp, OPCODE_LDDW } from '../isa/opcodes.js';

export const R_BPF = { NONE: 0, R64_64: 1, ABS64: 2, ABS32: 3, NODYLD32: 4, R64_32: 10 } as const;

export const RELOC_NAMES: Readonly<Record<number, string>> = {
  0: 'R_BPF_NONE', 1: 'R_BPF_64_64', 2: 'R_BPF_64_ABS64', 3: 'R_BPF_64_ABS32', 4: 'R_BPF_64_NODYLD32',
  10: 'R_BPF_64_32',
};

export interface CodeFunc {
  readonly name: string;
  readonly startSlot: number;
  /** One past the last slot. */
  readonly endSlot: number;
  readonly global: boolean;
}

export interface CodeSection {
  readonly section: ElfSection;
  readonly insns: readonly Insn[];
  readonly slots: readonly number[];
  /** Instruction index of each slot that starts an instruction (-1 for lddw second halves). */
  readonly indexOfSlot: Int32Array;
  readonly funcs: readonly CodeFunc[];
  /** Relocations keyed by the slot of the instruction they patch. */
  readonly relocs: ReadonlyMap<number, ElfRelocation>;
}

export function isCodeSection(s: ElfSection): boolean {
  return s.type === SHT.PROGBITS && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0;
}

export function readCodeSections(elf: ElfFile): Map<number, CodeSection> {
  const out = new Map<number, CodeSection>();
  for (const section of elf.sections) {
    if (!isCodeSection(section)) continue;
    const where = { file: elf.file, section: section.name };
    const insns = decode(section.data, { littleEndian: elf.littleEndian, file: elf.file, section: section.name });
    const slots = slotIndices(insns);
    const slotCount = section.size / 8;
    const indexOfSlot = new Int32Array(slotCount).fill(-1);
    slots.forEach((slot, i) => (indexOfSlot[slot] = i));
    const funcs = readFuncs(elf, section, slotCount);
    const relocs = new Map<number, ElfRelocation>();
    for (const rel of elf.relocations.get(section.index)?.entries ?? []) {
      const at = { ...where, offset: rel.offset };
      if (rel.offset % 8 !== 0 || rel.offset >= section.size) {
        throw new ObjectFormatError(`relocation at offset ${rel.offset} is not at an instruction of this ${section.size}-byte section`, at);
      }
      const slot = rel.offset / 8;
      const index = indexOfSlot[slot]!;
      const insn = index >= 0 ? insns[index] : undefined;
      const name = RELOC_NAMES[rel.type] ?? `type ${rel.type}`;
      if (rel.type === R_BPF.R64_64) {
        if (insn?.code !== OPCODE_LDDW) throw new ObjectFormatError(`${name} must patch an lddw instruction`, at);
      } else if (rel.type === R_BPF.R64_32) {
        if (insn === undefined || insn.code !== (0x05 | JmpOp.CALL)) throw new ObjectFormatError(`${name} must patch a call instruction`, at);
      } else if (rel.type !== R_BPF.NONE) {
        throw new ObjectFormatError(`${name} relocation in a code section: expected R_BPF_64_64 or R_BPF_64_32`, at);
      }
      if (relocs.has(slot)) throw new ObjectFormatError('two relocations patch the same instruction', at);
      if (rel.type !== R_BPF.NONE) relocs.set(slot, rel);
    }
    out.set(section.index, { section, insns, slots, indexOfSlot, funcs, relocs });
  }
  return out;
}

function readFuncs(elf: ElfFile, section: ElfSection, slotCount: number): CodeFunc[] {
  const funcs: CodeFunc[] = [];
  for (const sym of elf.symbols) {
    if (sym.shndx !== section.index || sym.type !== STT.FUNC) continue;
    const where = { file: elf.file, section: section.name, offset: sym.value };
    if (sym.value % 8 !== 0 || sym.size % 8 !== 0 || sym.value + sym.size > section.size || sym.size === 0) {
      throw new ObjectFormatError(
        `function '${sym.name}' (offset ${sym.value}, size ${sym.size}) is not a whole run of instructions inside the section`,
        where,
      );
    }
    funcs.push({ name: sym.name, startSlot: sym.value / 8, endSlot: (sym.value + sym.size) / 8, global: sym.bind !== STB.LOCAL });
  }
  funcs.sort((a, b) => a.startSlot - b.startSlot);
  for (let i = 1; i < funcs.length; i++) {
    if (funcs[i]!.startSlot < funcs[i - 1]!.endSlot) {
      throw new ObjectFormatError(`functions '${funcs[i - 1]!.name}' and '${funcs[i]!.name}' overlap`, {
        file: elf.file, section: section.name, offset: funcs[i]!.startSlot * 8,
      });
    }
  }
  if (funcs.length === 0) {
    // Hand-written assembly without symbols: the whole section is one function named after it.
    funcs.push({ name: section.name, startSlot: 0, endSlot: slotCount, global: true });
  }
  return funcs;
}

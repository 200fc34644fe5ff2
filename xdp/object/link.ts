/**
 * Linking one program: its function body, followed by every subprogram it
 * reaches through bpf-to-bpf calls or function pointers (`lddw` BPF_PSEUDO_FUNC),
 * each placed once, with call offsets recomputed for the new layout and map
 * references rewritten to map indices (src BPF_PSEUDO_MAP_IDX / _IDX_VALUE) —
 * what libbpf does before BPF_PROG_LOAD. Relocation arithmetic follows the
 * kernel's Documentation/bpf/llvm_reloc.rst.
 */
import { ObjectFormatError, UnsupportedError } from '../errors.js';
import { SHN_UNDEF, STB, STT, type ElfFile, type ElfSymbol } from '../elf/elf.js';
import type { Insn } from '../isa/insn.js';
import { CallSrc, JmpOp, LddwSrc, OPCODE_LDDW } from '../isa/opcodes.js';
import type { FuncInfo, KfuncRef, SourcePosition } from './bpf-object.js';
import { R_BPF, type CodeFunc, type CodeSection } from './code-sections.js';

const OPCODE_CALL = 0x05 | JmpOp.CALL;

/** How a data symbol resolves: a whole map, or a byte inside a global-data map's value. */
export type DataRef = { kind: 'map'; index: number } | { kind: 'value'; index: number; offset: number };

export interface LinkContext {
  readonly elf: ElfFile;
  readonly code: ReadonlyMap<number, CodeSection>;
  /** Resolve an lddw relocation against a non-code symbol; `addend` is the instruction's imm. */
  readonly resolveData: (sym: ElfSymbol, addend: number) => DataRef | undefined;
  readonly lineAt: (section: string, slot: number) => SourcePosition | undefined;
  readonly funcTypeAt: (section: string, slot: number) => number | undefined;
}

export interface LinkedCode {
  readonly insns: Insn[];
  readonly slots: number[];
  readonly funcs: FuncInfo[];
  readonly lines: (SourcePosition | undefined)[];
  /** Extern kernel functions called, in first-call order; a kfunc call's imm is its index here. */
  readonly kfuncs: KfuncRef[];
}

interface Placed {
  readonly cs: CodeSection;
  readonly func: CodeFunc;
  /** First slot in the linked program. */
  readonly at: number;
}

export function linkProgram(ctx: LinkContext, entry: CodeSection, entryFunc: CodeFunc): LinkedCode {
  const out: LinkedCode = { insns: [], slots: [], funcs: [], lines: [], kfuncs: [] };
  const kfuncIndex = (sym: ElfSymbol): number => {
    const at = out.kfuncs.findIndex((k) => k.name === sym.name);
    if (at >= 0) return at;
    out.kfuncs.push({ name: sym.name, weak: sym.bind === STB.WEAK });
    return out.kfuncs.length - 1;
  };
  const placed = new Map<string, Placed>();
  const queue: Placed[] = [];
  let nextSlot = 0;

  const place = (cs: CodeSection, func: CodeFunc): Placed => {
    const key = `${cs.section.index}:${func.startSlot}`;
    let p = placed.get(key);
    if (!p) {
      p = { cs, func, at: nextSlot };
      nextSlot += func.endSlot - func.startSlot;
      placed.set(key, p);
      queue.push(p);
    }
    return p;
  };

  place(entry, entryFunc);
  for (let q = 0; q < queue.length; q++) {
    const p = queue[q]!;
    const { cs, func } = p;
    const where = { file: ctx.elf.file, section: cs.section.name };
    const first = cs.indexOfSlot[func.startSlot] ?? -1;
    if (first < 0 || (func.endSlot < cs.indexOfSlot.length && cs.indexOfSlot[func.endSlot]! < 0)) {
      throw new ObjectFormatError(`function '${func.name}' starts or ends inside an lddw`, { ...where, offset: func.startSlot * 8 });
    }
    out.funcs.push({
      name: func.name, start: out.insns.length, slot: p.at, section: cs.section.name,
      btfTypeId: ctx.funcTypeAt(cs.section.name, func.startSlot),
    });
    let line: SourcePosition | undefined;
    for (let i = first; i < cs.insns.length && cs.slots[i]! < func.endSlot; i++) {
      const srcSlot = cs.slots[i]!;
      const newSlot = p.at + (srcSlot - func.startSlot);
      line = ctx.lineAt(cs.section.name, srcSlot) ?? line;
      out.insns.push(relocate(ctx, cs, srcSlot, newSlot, cs.insns[i]!, place, kfuncIndex));
      out.slots.push(newSlot);
      out.lines.push(line);
    }
  }
  return out;
}

type PlaceFn = (cs: CodeSection, func: CodeFunc) => Placed;

function relocate(
  ctx: LinkContext, cs: CodeSection, srcSlot: number, newSlot: number, insn: Insn, place: PlaceFn,
  kfuncIndex: (sym: ElfSymbol) => number,
): Insn {
  const rel = cs.relocs.get(srcSlot);
  const where = { file: ctx.elf.file, section: cs.section.name, offset: srcSlot * 8 };
  const isCall = insn.code === OPCODE_CALL && insn.src === CallSrc.LOCAL;
  const isFuncRef = insn.code === OPCODE_LDDW && insn.src === LddwSrc.FUNC;

  const branchTo = (target: CodeSection, targetSlot: number): Insn => {
    const func = target.funcs.find((f) => f.startSlot === targetSlot);
    if (!func) {
      throw new ObjectFormatError(
        `call target (slot ${targetSlot} of section ${target.section.name}) is not the start of a function`, where,
      );
    }
    const imm = place(target, func).at - (newSlot + 1);
    return insn.code === OPCODE_CALL
      ? { ...insn, src: CallSrc.LOCAL, imm }
      : { ...insn, src: LddwSrc.FUNC, imm, next: { ...insn.next!, imm: 0 } };
  };

  if (!rel) {
    if (isCall || isFuncRef) return branchTo(cs, srcSlot + insn.imm + 1);
    return insn;
  }
  const sym = ctx.elf.symbols[rel.symbol]!;
  if (sym.shndx === SHN_UNDEF) {
    // An extern kernel function (`extern ... __ksym`): libbpf's RELO_EXTERN_CALL. The call becomes
    // BPF_PSEUDO_KFUNC_CALL; imm is the kfunc's index in the program's list until a kernel loader
    // puts the BTF id of the function there (bpf_object__relocate_data).
    if (rel.type === R_BPF.R64_32 && insn.code === OPCODE_CALL) {
      if (sym.name === '') throw new ObjectFormatError('call relocation against an unnamed undefined symbol', where);
      return { ...insn, src: CallSrc.KFUNC, off: 0, imm: kfuncIndex(sym) };
    }
    throw new UnsupportedError(
      `'${sym.name}' is an extern variable (a ksym or kconfig value, or a kfunc's address) that only libbpf's loader resolves`, where,
    );
  }
  const targetCode = ctx.code.get(sym.shndx);
  if (rel.type === R_BPF.R64_32) {
    if (!targetCode) throw new ObjectFormatError(`call relocation against '${sym.name}', which is not in a code section`, where);
    // (S + A) / 8 - 1 was written into imm, so the target slot is S / 8 + imm + 1.
    return branchTo(targetCode, sym.value / 8 + insn.imm + 1);
  }
  // R_BPF_64_64 on an lddw.
  if (targetCode) {
    const addend = sym.type === STT.SECTION ? insn.imm : 0;
    if ((sym.value + addend) % 8 !== 0) throw new ObjectFormatError(`function reference to '${sym.name}' is not 8-byte aligned`, where);
    return branchTo(targetCode, (sym.value + addend) / 8);
  }
  const ref = ctx.resolveData(sym, insn.imm);
  if (!ref) {
    throw new ObjectFormatError(`lddw relocation against '${sym.name}', which is neither a map nor global data`, where);
  }
  const next = insn.next!;
  return ref.kind === 'map'
    ? { ...insn, src: LddwSrc.MAP_IDX, imm: ref.index, next: { ...next, imm: 0 } }
    : { ...insn, src: LddwSrc.MAP_IDX_VALUE, imm: ref.index, next: { ...next, imm: ref.offset } };
}

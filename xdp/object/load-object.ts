/**
 * Loading a BPF ELF object the way libbpf prepares one for BPF_PROG_LOAD:
 * find the maps (legacy `maps`, BTF-defined `.maps`, global data), the programs
 * and their subprograms, apply the relocations, and attach BTF line info so
 * that every instruction knows its C source line.
 *
 * Programs as bpf_object__add_programs finds them: every FUNC symbol of an
 * executable section other than `.text` (whose functions are subprograms,
 * linked into the programs that call them). Unlike libbpf — which refuses a
 * static (STB_LOCAL) function there with "program '%s' is static and not
 * supported" — static ones are programs too, as cilium/ebpf's loader takes
 * them (cilium's tail calls are static functions in one section). The type
 * comes from the section name or from the caller (program-type.ts).
 */
import { readFileSync } from 'node:fs';
import { ObjectFormatError, UnsupportedError, XdpError } from '../errors.js';
import { parseElf, sectionByName, SHN_UNDEF, STT, type ElfFile, type ElfSection, type ElfSymbol } from '../elf/elf.js';
import { ByteReader } from '../bytes/byte-reader.js';
import { parseBtf } from '../btf/btf-parse.js';
import { parseBtfExt, type BtfExt } from '../btf/btf-ext.js';
import { checkBtfLayout } from '../btf/btf-layout.js';
import { readBtfMaps, type BtfMapDef } from '../btf/btf-map-def.js';
import { memberByName } from '../btf/btf-resolve.js';
import type { Btf } from '../btf/btf-types.js';
import type { BpfObject, ForeignProgram, MapDef, Program, SourcePosition } from './bpf-object.js';
import { readCodeSections, R_BPF, type CodeSection } from './code-sections.js';
import { globalDataMap, isGlobalDataSection } from './global-data.js';
import { readLegacyMaps } from './legacy-maps.js';
import { linkProgram, type DataRef, type LinkContext } from './link.js';
import { programType, type ForcedType } from './program-type.js';

export interface LoadedObject extends BpfObject {
  readonly elf: ElfFile;
  readonly btf?: Btf;
}

export interface LoadOptions {
  /** Every program is of this type whatever its section (bpftool's `prog load ... type xdp`). */
  readonly progType?: ForcedType;
}

export function loadObjectFile(path: string, opts: LoadOptions = {}): LoadedObject {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new XdpError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
  return loadObject(bytes, path, opts);
}

export function loadObject(bytes: Uint8Array, file: string, opts: LoadOptions = {}): LoadedObject {
  const elf = parseElf(bytes, file);
  const btfSection = sectionByName(elf, '.BTF');
  const btf = btfSection ? parseBtf(btfSection.data, { file, littleEndian: elf.littleEndian }) : undefined;
  if (btf) checkBtfLayout(btf);
  const extSection = sectionByName(elf, '.BTF.ext');
  const ext = extSection && btf ? parseBtfExt(extSection.data, btf, { file, littleEndian: elf.littleEndian }) : undefined;

  const code = readCodeSections(elf);
  const { maps, resolveData } = collectMaps(elf, btf, code);
  const lineIndex = indexLines(ext);
  const funcIndex = indexFuncTypes(ext);
  const ctx: LinkContext = {
    elf, code, resolveData,
    lineAt: (section, slot) => lineIndex.get(section)?.get(slot),
    funcTypeAt: (section, slot) => funcIndex.get(section)?.get(slot),
  };

  const programs: Program[] = [];
  const foreign: ForeignProgram[] = [];
  for (const cs of code.values()) {
    const name = cs.section.name;
    if (name === '.text') continue;
    const type = programType(name, opts.progType);
    for (const f of cs.funcs) {
      if (type?.progType !== 'XDP') {
        foreign.push({ name: f.name, section: name, progType: type?.progType ?? 'UNKNOWN' });
        continue;
      }
      const { kfuncs, ...linked } = linkProgram(ctx, cs, f);
      programs.push({
        name: f.name, section: name, type, sectionOffset: f.startSlot * 8, ...linked,
        ...(kfuncs.length > 0 ? { kfuncs } : {}),
        ...(f.global ? {} : { static: true }),
      });
    }
  }
  return {
    file, elf, btf, littleEndian: elf.littleEndian,
    license: readLicense(elf), kernelVersion: readVersion(elf),
    programs, foreign, maps,
    hasBtf: btf !== undefined,
    hasLineInfo: ext !== undefined && ext.lineInfo.size > 0,
  };
}

function readLicense(elf: ElfFile): string | undefined {
  const s = sectionByName(elf, 'license');
  if (!s) return undefined;
  const end = s.data.indexOf(0);
  return new TextDecoder().decode(s.data.subarray(0, end < 0 ? s.data.length : end));
}

function readVersion(elf: ElfFile): number | undefined {
  const s = sectionByName(elf, 'version');
  if (!s) return undefined;
  if (s.size !== 4) throw new ObjectFormatError(`version section is ${s.size} bytes, expected 4`, { file: elf.file, section: 'version' });
  return new ByteReader(s.data, elf.littleEndian, { file: elf.file, section: 'version' }).u32(0);
}

function indexLines(ext: BtfExt | undefined): Map<string, Map<number, SourcePosition>> {
  const out = new Map<string, Map<number, SourcePosition>>();
  for (const [section, records] of ext?.lineInfo ?? []) {
    const bySlot = new Map<number, SourcePosition>();
    for (const r of records) bySlot.set(r.insnOff / 8, { file: r.file, line: r.line, col: r.col, text: r.source });
    out.set(section, bySlot);
  }
  return out;
}

function indexFuncTypes(ext: BtfExt | undefined): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const [section, records] of ext?.funcInfo ?? []) {
    out.set(section, new Map(records.map((r) => [r.insnOff / 8, r.typeId])));
  }
  return out;
}

/** All maps of the object, and how an lddw relocation against a data symbol resolves to one. */
function collectMaps(elf: ElfFile, btf: Btf | undefined, code: ReadonlyMap<number, CodeSection>): {
  maps: MapDef[];
  resolveData: (sym: ElfSymbol, addend: number) => DataRef | undefined;
} {
  const maps: MapDef[] = [];
  const add = (def: Omit<MapDef, 'index'>): number => {
    if (maps.some((m) => m.name === def.name)) {
      throw new ObjectFormatError(`two maps are named '${def.name}'`, { file: elf.file, section: def.section });
    }
    maps.push({ ...def, index: maps.length });
    return maps.length - 1;
  };
  /** Map index by (section index, offset of the definition in that section). */
  const byOffset = new Map<string, number>();
  const dataIndex = new Map<number, number>();

  const legacy = sectionByName(elf, 'maps');
  if (legacy) {
    for (const m of readLegacyMaps(elf, legacy)) byOffset.set(`${legacy.index}:${m.offset}`, add(m.def));
  }
  const btfMaps = sectionByName(elf, '.maps');
  if (btfMaps) {
    if (!btf) throw new ObjectFormatError('a .maps section needs BTF to describe its maps, and the object has no .BTF', { file: elf.file, section: '.maps' });
    readBtfMapSection(elf, btf, btfMaps, add, byOffset, maps, code);
  }
  for (const s of elf.sections) {
    if (isGlobalDataSection(s) && s.size > 0) dataIndex.set(s.index, add(globalDataMap(s, elf.file, btf, elf.symbols)));
  }

  const resolveData = (sym: ElfSymbol, addend: number): DataRef | undefined => {
    if (sym.shndx === SHN_UNDEF) return undefined;
    const data = dataIndex.get(sym.shndx);
    if (data !== undefined) {
      const offset = sym.value + addend;
      const size = maps[data]!.valueSize;
      if (offset < 0 || offset >= size) {
        throw new ObjectFormatError(`reference to '${sym.name}'+${addend} lies outside the ${size}-byte section`, {
          file: elf.file, section: maps[data]!.section,
        });
      }
      return { kind: 'value', index: data, offset };
    }
    const offset = sym.value + (sym.type === STT.SECTION ? addend : 0);
    const index = byOffset.get(`${sym.shndx}:${offset}`);
    return index === undefined ? undefined : { kind: 'map', index };
  };
  return { maps, resolveData };
}

function fromBtfDef(name: string, def: BtfMapDef, section: string): Omit<MapDef, 'index'> {
  const base = {
    name, type: def.type ?? 0, keySize: def.keySize ?? 0, valueSize: def.valueSize ?? 0,
    maxEntries: def.maxEntries ?? 0, flags: def.flags ?? 0, pinning: def.pinning ?? 0,
    ...(def.numaNode !== undefined ? { numaNode: def.numaNode } : {}),
    ...(def.mapExtra !== undefined ? { mapExtra: def.mapExtra } : {}),
    ...(def.keyType !== undefined ? { keyTypeId: def.keyType } : {}),
    ...(def.valueType !== undefined ? { valueTypeId: def.valueType } : {}),
  };
  const inner = def.inner ? fromBtfDef(`${name}.inner`, def.inner, section) : undefined;
  return {
    ...base,
    ...(inner ? { inner: (({ origin: _o, section: _s, ...rest }) => rest)(inner) } : {}),
    origin: 'btf', section,
  };
}

function readBtfMapSection(
  elf: ElfFile, btf: Btf, section: ElfSection,
  add: (def: Omit<MapDef, 'index'>) => number, byOffset: Map<string, number>, maps: MapDef[],
  code: ReadonlyMap<number, CodeSection>,
): void {
  const where = { file: elf.file, section: section.name };
  const symbols = elf.symbols.filter((s) => s.shndx === section.index && s.type === STT.OBJECT);
  const vars = readBtfMaps(btf);
  const placed: { index: number; start: number; size: number; valuesAt?: number }[] = [];
  for (const v of vars) {
    const sym = symbols.find((s) => s.name === v.name);
    if (!sym) throw new ObjectFormatError(`BTF describes map '${v.name}', but no symbol of that name is in .maps`, where);
    const index = add(fromBtfDef(v.name, v.def, section.name));
    byOffset.set(`${section.index}:${sym.value}`, index);
    const values = v.def.inner || v.def.progValues ? memberByName(btf, btfVarType(btf, v.varId), 'values') : undefined;
    placed.push({ index, start: sym.value, size: sym.size, ...(values ? { valuesAt: values.bitOffset / 8 } : {}) });
  }
  for (const sym of symbols) {
    if (!vars.some((v) => v.name === sym.name)) {
      throw new ObjectFormatError(`symbol '${sym.name}' is in .maps, but BTF does not describe it`, { ...where, offset: sym.value });
    }
  }
  // `.values = { [i] = &x }` initialisers are R_BPF_64_ABS64 relocations inside .maps.
  const slots = new Map<number, { slot: number; name: string }[]>();
  for (const rel of elf.relocations.get(section.index)?.entries ?? []) {
    const at = { ...where, offset: rel.offset };
    if (rel.type !== R_BPF.ABS64) throw new ObjectFormatError(`relocation type ${rel.type} in .maps: expected R_BPF_64_ABS64`, at);
    const m = placed.find((p) => rel.offset >= p.start && rel.offset < p.start + p.size);
    if (!m || m.valuesAt === undefined) throw new ObjectFormatError('relocation in .maps outside any map\'s .values', at);
    const rel0 = rel.offset - m.start - m.valuesAt;
    if (rel0 < 0 || rel0 % 8 !== 0) throw new ObjectFormatError('relocation in .maps is not at a .values slot', at);
    const list = slots.get(m.index) ?? [];
    list.push({ slot: rel0 / 8, name: slotTarget(elf, section, rel.offset, elf.symbols[rel.symbol]!, code) });
    slots.set(m.index, list);
  }
  for (const [index, list] of slots) {
    const m = maps[index]!;
    const bad = list.find((s) => s.slot >= m.maxEntries);
    if (bad) throw new ObjectFormatError(`map '${m.name}' initialises slot ${bad.slot}, past max_entries ${m.maxEntries}`, where);
    maps[index] = { ...m, initialSlots: list };
  }
}

/**
 * The name a `.values` slot relocation points at. A global function or map is named by its
 * symbol; a static function is reached through its section's symbol, the addend (REL: the
 * 8 bytes being patched) giving its offset — the function that starts there is the target.
 */
function slotTarget(
  elf: ElfFile, maps: ElfSection, relOffset: number, target: ElfSymbol, code: ReadonlyMap<number, CodeSection>,
): string {
  if (target.type !== STT.SECTION) return target.name;
  const at = { file: elf.file, section: maps.name, offset: relOffset };
  const cs = code.get(target.shndx);
  if (!cs) throw new ObjectFormatError(`.values slot relocation against section symbol '${target.name}', which is not a code section`, at);
  const addend = new ByteReader(maps.data, elf.littleEndian, at).u64(relOffset);
  const func = addend % 8 === 0 ? cs.funcs.find((f) => f.startSlot === addend / 8) : undefined;
  if (!func) throw new ObjectFormatError(`.values slot points at offset ${addend} of ${cs.section.name}, where no function starts`, at);
  return func.name;
}

function btfVarType(btf: Btf, varId: number): number {
  const v = btf.types[varId];
  return v?.kind === 'VAR' ? v.type : 0;
}

/**
 * The XDP programs a user's `--section` names: a program (function) name, or a section
 * name (all programs in it). A non-XDP program is refused by name and type.
 */
export function findPrograms(obj: BpfObject, wanted?: string): Program[] {
  if (obj.programs.length === 0) {
    const others = obj.foreign.map((f) => `${f.name} (section ${f.section}: ${f.progType})`).join(', ');
    const untyped = obj.foreign.some((f) => f.progType === 'UNKNOWN');
    throw new UnsupportedError(
      others
        ? `no XDP program in this object; it holds ${others}. Only XDP programs (sections xdp, xdp/..., xdp.frags) are supported` +
          (untyped ? `; ${UNTYPED_HINT}` : '')
        : 'no program in this object',
      { file: obj.file },
    );
  }
  if (wanted === undefined) return [...obj.programs];
  const byName = obj.programs.filter((p) => p.name === wanted);
  if (byName.length > 0) return byName;
  const bySection = obj.programs.filter((p) => p.section === wanted);
  if (bySection.length > 0) return bySection;
  const foreign = obj.foreign.find((p) => p.section === wanted || p.name === wanted);
  if (foreign?.progType === 'UNKNOWN') {
    throw new UnsupportedError(
      `'${wanted}' is program '${foreign.name}' in section '${foreign.section}', a name that says no program type; ${UNTYPED_HINT}`,
      { file: obj.file },
    );
  }
  if (foreign) {
    throw new UnsupportedError(
      `'${wanted}' is a ${foreign.progType} program (section ${foreign.section}); only XDP programs can be run or offloaded`,
      { file: obj.file },
    );
  }
  const names = obj.programs.map((p) => `${p.name} (section ${p.section})`).join(', ');
  throw new UnsupportedError(`no program or section '${wanted}'; XDP programs here: ${names}`, { file: obj.file });
}

const UNTYPED_HINT = 'if it is an XDP program, say so with --type xdp (as bpftool prog load ... type xdp)';

/** Exactly one program: the only one, or the one `wanted` names. */
export function selectProgram(obj: BpfObject, wanted?: string): Program {
  const found = findPrograms(obj, wanted);
  if (found.length === 1) return found[0]!;
  const names = found.map((p) => p.name).join(', ');
  throw new UnsupportedError(
    wanted === undefined
      ? `the object holds ${found.length} XDP programs (${names}); choose one with --section`
      : `section '${wanted}' holds ${found.length} programs (${names}); name one of them`,
    { file: obj.file },
  );
}

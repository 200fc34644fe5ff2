/**
 * ELF64 relocatable objects as clang writes them for `-target bpf`: the file header,
 * section headers and names, the symbol table and REL relocation tables
 * (System V gABI, "ELF-64 Object File Format"). Hand-written: no maintained npm
 * package reads ELF for BPF, and we need every read bounds-checked so that a
 * corrupt file ends in an `ObjectFormatError` naming the offset, never a RangeError.
 */
import { ObjectFormatError } from '../errors.js';
import { ByteReader, stringAt } from '../bytes/byte-reader.js';

export const EM_BPF = 247;
/** EM_NONE: the machine old LLVM releases wrote into BPF objects. */
export const EM_NONE = 0;
export const ET_REL = 1;

export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOBITS: 8, REL: 9 } as const;
export const SHF_EXECINSTR = 0x4;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  /** File offset of the contents. */
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
  /** Contents (empty for NOBITS, which occupies no file bytes). */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly type: number;
  readonly bind: number;
  readonly shndx: number;
}

export interface ElfRelocation {
  /** Offset inside the section the relocation applies to. */
  readonly offset: number;
  readonly type: number;
  readonly symbol: number;
  /** Explicit addend (RELA only; REL keeps it in the section bytes). */
  readonly addend: number;
}

export interface ElfFile {
  readonly file: string;
  readonly littleEndian: boolean;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  /** Relocation tables keyed by the index of the section they apply to. */
  readonly relocations: ReadonlyMap<number, { table: ElfSection; entries: ElfRelocation[] }>;
}

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
const RELA_SIZE = 24;

function cString(data: Uint8Array, at: number, file: string, section: string): string {
  const s = stringAt(data, at);
  if (s === undefined) {
    throw new ObjectFormatError(
      `string at offset ${at} does not end with a NUL inside the ${data.length}-byte string table`, { file, section },
    );
  }
  return s;
}

export function parseElf(bytes: Uint8Array, file: string): ElfFile {
  if (bytes.length < EHDR_SIZE) {
    throw new ObjectFormatError(`file is ${bytes.length} bytes, shorter than the 64-byte ELF64 header`, { file, offset: 0 });
  }
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ObjectFormatError('not an ELF file: expected magic 7f 45 4c 46', { file, offset: 0 });
  }
  if (bytes[4] !== 2) throw new ObjectFormatError(`ELF class ${bytes[4]}: expected 2 (ELF64)`, { file, offset: 4 });
  if (bytes[5] !== 1 && bytes[5] !== 2) {
    throw new ObjectFormatError(`ELF data encoding ${bytes[5]}: expected 1 (little) or 2 (big endian)`, { file, offset: 5 });
  }
  const le = bytes[5] === 1;
  const r = new ByteReader(bytes, le, { file });
  const type = r.u16(16);
  const machine = r.u16(18);
  if (type !== ET_REL) throw new ObjectFormatError(`ELF type ${type}: expected 1 (relocatable object)`, { file, offset: 16 });
  // Old LLVM wrote EM_NONE (0); libbpf accepts it (bpf_object__elf_init: `e_machine && e_machine != EM_BPF`).
  if (machine !== EM_BPF && machine !== EM_NONE) {
    throw new ObjectFormatError(`ELF machine ${machine}: expected 247 (BPF), or 0 as old LLVM wrote it`, { file, offset: 18 });
  }
  const shoff = r.u64(40);
  const shentsize = r.u16(58);
  const shnum = r.u16(60);
  const shstrndx = r.u16(62);
  if (shnum === 0) throw new ObjectFormatError('object has no sections', { file, offset: 60 });
  if (shentsize !== SHDR_SIZE) {
    throw new ObjectFormatError(`section header size ${shentsize}: expected ${SHDR_SIZE}`, { file, offset: 58 });
  }
  r.need(shoff, shnum * SHDR_SIZE, `${shnum} section headers`);
  if (shstrndx >= shnum) {
    throw new ObjectFormatError(`section name table index ${shstrndx} is not below the section count ${shnum}`, { file, offset: 62 });
  }

  interface RawHeader { name: number; type: number; flags: number; offset: number; size: number; link: number; info: number; entsize: number; at: number }
  const raw: RawHeader[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * SHDR_SIZE;
    const h: RawHeader = {
      name: r.u32(at), type: r.u32(at + 4), flags: r.u64(at + 8), offset: r.u64(at + 24), size: r.u64(at + 32),
      link: r.u32(at + 40), info: r.u32(at + 44), entsize: r.u64(at + 56), at,
    };
    if (h.type !== SHT.NOBITS && h.type !== SHT.NULL) r.need(h.offset, h.size, `contents of section ${i}`, h.at + 24);
    raw.push(h);
  }
  const dataOf = (h: RawHeader) =>
    h.type === SHT.NOBITS || h.type === SHT.NULL ? new Uint8Array(0) : bytes.subarray(h.offset, h.offset + h.size);
  const names = dataOf(raw[shstrndx]!);
  const sections: ElfSection[] = raw.map((h, index) => ({
    index,
    name: index === 0 ? '' : cString(names, h.name, file, 'section names'),
    type: h.type, flags: h.flags, offset: h.offset, size: h.size, link: h.link, info: h.info, entsize: h.entsize,
    data: dataOf(h),
  }));

  const symbols = readSymbols(sections, le, file);
  const relocations = new Map<number, { table: ElfSection; entries: ElfRelocation[] }>();
  for (const s of sections) {
    if (s.type !== SHT.REL && s.type !== SHT.RELA) continue;
    if (s.info === 0 || s.info >= sections.length) {
      throw new ObjectFormatError(`relocation section applies to section ${s.info}, which does not exist`, {
        file, section: s.name,
      });
    }
    relocations.set(s.info, { table: s, entries: readRelocations(s, le, file, symbols.length) });
  }
  return { file, littleEndian: le, machine, sections, symbols, relocations };
}

function readSymbols(sections: readonly ElfSection[], le: boolean, file: string): ElfSymbol[] {
  const symtabs = sections.filter((s) => s.type === SHT.SYMTAB);
  if (symtabs.length === 0) return [];
  if (symtabs.length > 1) throw new ObjectFormatError('more than one symbol table', { file, section: symtabs[1]!.name });
  const symtab = symtabs[0]!;
  if (symtab.size % SYM_SIZE !== 0) {
    throw new ObjectFormatError(`symbol table of ${symtab.size} bytes is not a multiple of ${SYM_SIZE}`, {
      file, section: symtab.name,
    });
  }
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT.STRTAB) {
    throw new ObjectFormatError(`symbol table links to section ${symtab.link}, which is not a string table`, {
      file, section: symtab.name,
    });
  }
  const r = new ByteReader(symtab.data, le, { file, section: symtab.name });
  const out: ElfSymbol[] = [];
  for (let index = 0, at = 0; at < symtab.size; index++, at += SYM_SIZE) {
    const info = r.u8(at + 4);
    const shndx = r.u16(at + 6);
    const name = cString(strtab.data, r.u32(at), file, strtab.name);
    if (shndx !== SHN_UNDEF && shndx < 0xff00 && shndx >= sections.length) {
      throw new ObjectFormatError(`symbol '${name}' is in section ${shndx}, which does not exist`, {
        file, section: symtab.name, offset: at + 6,
      });
    }
    out.push({ index, name, value: r.u64(at + 8), size: r.u64(at + 16), type: info & 0xf, bind: info >> 4, shndx });
  }
  return out;
}

function readRelocations(s: ElfSection, le: boolean, file: string, symbolCount: number): ElfRelocation[] {
  const entSize = s.type === SHT.RELA ? RELA_SIZE : REL_SIZE;
  if (s.size % entSize !== 0) {
    throw new ObjectFormatError(`relocation table of ${s.size} bytes is not a multiple of ${entSize}`, { file, section: s.name });
  }
  const r = new ByteReader(s.data, le, { file, section: s.name });
  const out: ElfRelocation[] = [];
  for (let at = 0; at < s.size; at += entSize) {
    const info = r.u64(at + 8);
    const symbol = Math.floor(info / 0x100000000);
    if (symbol >= symbolCount) {
      throw new ObjectFormatError(`relocation refers to symbol ${symbol}, but the symbol table has ${symbolCount}`, {
        file, section: s.name, offset: at + 8,
      });
    }
    out.push({ offset: r.u64(at), type: info % 0x100000000, symbol, addend: s.type === SHT.RELA ? r.i64(at + 16) : 0 });
  }
  return out;
}

export function sectionByName(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

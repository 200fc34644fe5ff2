/**
 * Test-only: find named sections in an ELF64 file (either byte order) so the
 * BTF tests can get section bytes without the project's ELF reader.
 */

export interface ElfSections {
  readonly littleEndian: boolean;
  readonly sections: Map<string, Uint8Array>;
}

export function elfSections(file: Uint8Array): ElfSections {
  if (file[0] !== 0x7f || file[1] !== 0x45 || file[2] !== 0x4c || file[3] !== 0x46) throw new Error('not an ELF file');
  if (file[4] !== 2) throw new Error('not ELF64');
  const littleEndian = file[5] === 1;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const u16 = (o: number) => view.getUint16(o, littleEndian);
  const u32 = (o: number) => view.getUint32(o, littleEndian);
  const u64 = (o: number) => Number(view.getBigUint64(o, littleEndian));
  const shoff = u64(0x28);
  const shentsize = u16(0x3a);
  const shnum = u16(0x3c);
  const shstrndx = u16(0x3e);
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    return { name: u32(at), type: u32(at + 4), offset: u64(at + 24), size: u64(at + 32) };
  };
  const strtab = header(shstrndx);
  const nameAt = (off: number) => {
    const start = strtab.offset + off;
    const end = file.indexOf(0, start);
    return new TextDecoder().decode(file.subarray(start, end));
  };
  const sections = new Map<string, Uint8Array>();
  for (let i = 1; i < shnum; i++) {
    const h = header(i);
    const SHT_NOBITS = 8;
    const bytes = h.type === SHT_NOBITS ? new Uint8Array(0) : file.subarray(h.offset, h.offset + h.size);
    sections.set(nameAt(h.name), bytes);
  }
  return { littleEndian, sections };
}

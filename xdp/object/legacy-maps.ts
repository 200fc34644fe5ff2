/**
 * Map definitions of the legacy `maps` ELF section: one `struct bpf_map_def`
 * { u32 type, key_size, value_size, max_entries, map_flags } per symbol, all of
 * the same size (section size / symbol count), as libbpf read them before 1.0
 * and iproute2 still writes them. Bytes past the five known fields must be zero.
 */
import { ObjectFormatError } from '../errors.js';
import { ByteReader } from '../bytes/byte-reader.js';
import { SHN_ABS, STT, type ElfFile, type ElfSection } from '../elf/elf.js';
import type { MapDef } from './bpf-object.js';

const KNOWN_FIELDS = 5;

export interface LegacyMapAt {
  readonly def: Omit<MapDef, 'index'>;
  /** Offset of the definition in the section (what relocations point at). */
  readonly offset: number;
}

export function readLegacyMaps(elf: ElfFile, section: ElfSection): LegacyMapAt[] {
  const symbols = elf.symbols
    .filter((s) => s.shndx === section.index && s.shndx !== SHN_ABS && s.name !== '' && s.type !== STT.SECTION)
    .sort((a, b) => a.value - b.value);
  if (symbols.length === 0) return [];
  const where = { file: elf.file, section: section.name };
  if (section.size % symbols.length !== 0) {
    throw new ObjectFormatError(
      `${section.size} bytes of map definitions do not divide evenly among ${symbols.length} map symbols`, where,
    );
  }
  const defSize = section.size / symbols.length;
  if (defSize < KNOWN_FIELDS * 4) {
    throw new ObjectFormatError(`map definitions of ${defSize} bytes are shorter than struct bpf_map_def (20 bytes)`, where);
  }
  const r = new ByteReader(section.data, elf.littleEndian, where);
  return symbols.map((sym) => {
    if (sym.value % defSize !== 0) {
      throw new ObjectFormatError(`map '${sym.name}' starts at ${sym.value}, not at a multiple of ${defSize}`, {
        ...where, offset: sym.value,
      });
    }
    const at = sym.value;
    r.need(at, defSize, `map definition '${sym.name}'`);
    for (let extra = at + KNOWN_FIELDS * 4; extra < at + defSize; extra++) {
      if (r.u8(extra) !== 0) {
        throw new ObjectFormatError(`map '${sym.name}' sets fields this loader does not know (non-zero byte)`, {
          ...where, offset: extra,
        });
      }
    }
    return {
      offset: at,
      def: {
        name: sym.name,
        type: r.u32(at),
        keySize: r.u32(at + 4),
        valueSize: r.u32(at + 8),
        maxEntries: r.u32(at + 12),
        flags: r.u32(at + 16),
        pinning: 0,
        origin: 'legacy',
        section: section.name,
      },
    };
  });
}

/**
 * Global variables as maps, the way libbpf turns them into maps: each `.data*`,
 * `.rodata*` and `.bss*` section becomes a single-element ARRAY whose value is
 * the section's bytes (zeros for `.bss`); `.rodata` maps are read-only for the
 * program (BPF_F_RDONLY_PROG).
 */
import type { Btf } from '../btf/btf-types.js';
import { findDatasec, sizeOf } from '../btf/btf-resolve.js';
import { ObjectFormatError } from '../errors.js';
import { SHF_EXECINSTR, SHT, STT, type ElfSection, type ElfSymbol } from '../elf/elf.js';
import { BPF_F_RDONLY_PROG, MAP_TYPE } from '../maps/map-types.js';
import type { MapDef } from './bpf-object.js';

export function isGlobalDataSection(s: ElfSection): boolean {
  if ((s.flags & SHF_EXECINSTR) !== 0 || (s.type !== SHT.PROGBITS && s.type !== SHT.NOBITS)) return false;
  return /^\.(data|rodata|bss)(\.|$)/.test(s.name);
}

/**
 * The kernel refuses array values larger than KMALLOC_MAX_SIZE (array_map_alloc_check in
 * kernel/bpf/arraymap.c), 4 MiB on x86-64; a bigger section could never be loaded.
 */
export const MAX_GLOBAL_DATA_BYTES = 4 << 20;

export function globalDataMap(s: ElfSection, file: string, btf?: Btf, symbols: readonly ElfSymbol[] = []): Omit<MapDef, 'index'> {
  if (s.size > MAX_GLOBAL_DATA_BYTES) {
    throw new ObjectFormatError(`global data section of ${s.size} bytes exceeds the kernel's ${MAX_GLOBAL_DATA_BYTES}-byte map value limit`, {
      file, section: s.name,
    });
  }
  const readOnly = s.name.startsWith('.rodata');
  return {
    name: s.name,
    type: MAP_TYPE.ARRAY,
    keySize: 4,
    valueSize: s.size,
    maxEntries: 1,
    flags: readOnly ? BPF_F_RDONLY_PROG : 0,
    pinning: 0,
    origin: 'global-data',
    section: s.name,
    initialValue: s.type === SHT.NOBITS ? new Uint8Array(s.size) : s.data.slice(),
    ...dataVarsOf(btf, s, symbols),
  };
}

/**
 * The section's variables as its DATASEC lists them, placed by their symbols (btf_fixup_datasec in
 * libbpf does the same). None when there is no DATASEC or a variable has no symbol there.
 */
function dataVarsOf(btf: Btf | undefined, s: ElfSection, symbols: readonly ElfSymbol[]): Pick<MapDef, 'dataVars'> {
  const sec = btf ? findDatasec(btf, s.name) : undefined;
  if (!btf || !sec || sec.vars.length === 0) return {};
  const vars: { varTypeId: number; offset: number }[] = [];
  for (const v of sec.vars) {
    const t = btf.types[v.type];
    if (t?.kind !== 'VAR') return {};
    const sym = symbols.find((x) => x.shndx === s.index && x.name === t.name && x.type !== STT.SECTION);
    if (!sym || sym.value + sizeOf(btf, t.type) > s.size) return {};
    vars.push({ varTypeId: v.type, offset: sym.value });
  }
  return { dataVars: vars.sort((a, b) => a.offset - b.offset) };
}

/**
 * The bytes a program reads from a frozen read-only map (bpf_map_is_rdonly in kernel/bpf/verifier.c:
 * BPF_F_RDONLY_PROG and frozen): libbpf freezes `.rodata*` after writing its initial value, so the
 * verifier may read them as constants (bpf_map_direct_read). Only single-element arrays qualify
 * (array_map_direct_value_addr). Undefined for every other map.
 */
export function frozenValue(def: MapDef): Uint8Array | undefined {
  if (def.origin !== 'global-data' || !def.section.startsWith('.rodata')) return undefined;
  if ((def.flags & BPF_F_RDONLY_PROG) === 0 || def.type !== MAP_TYPE.ARRAY || def.maxEntries !== 1) return undefined;
  return def.initialValue;
}

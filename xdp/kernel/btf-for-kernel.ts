/**
 * The object's BTF as the kernel wants it for BPF_BTF_LOAD, and the func_info /
 * line_info records of a linked program for BPF_PROG_LOAD — so that the
 * verifier's log shows the C source line above the instructions it talks about.
 *
 * What clang leaves for the loader to do (libbpf does the same before loading,
 * "btf_fixup_datasec"): a DATASEC's size is 0 in the object and each variable's
 * offset inside it is 0; the kernel refuses both (btf_datasec_check_meta,
 * kernel/bpf/btf.c). The section size comes from the ELF section header, the
 * offsets from the variables' symbols, and the variables must be sorted by
 * offset.
 *
 * func_info / line_info (include/uapi/linux/bpf.h struct bpf_func_info,
 * struct bpf_line_info) count instructions from the start of the linked
 * program; .BTF.ext counts bytes from the start of each ELF section
 * (Documentation/bpf/btf.rst §4.2). So each function's records are moved to
 * where the linker placed the function.
 */
import { sectionByName, STT, type ElfFile } from '../elf/elf.js';
import type { Btf } from '../btf/btf-types.js';
import type { Program } from '../object/bpf-object.js';
import type { ProgBtf } from './bpf-syscall.js';
import { sanitizeKsyms } from './ksyms-btf.js';

/** Raw BTF fixed up for the kernel, or why it cannot be. */
export type KernelBtf = { ok: true; raw: Uint8Array } | { ok: false; reason: string };

export function btfForKernel(elf: ElfFile, btf: Btf | undefined): KernelBtf {
  const section = sectionByName(elf, '.BTF');
  if (!btf || !section) return { ok: false, reason: 'the object has no .BTF section' };
  if (!btf.littleEndian) return { ok: false, reason: 'the object\'s BTF is big-endian; the kernel reads only its own byte order' };
  const sanitized = sanitizeKsyms(section.data.slice(), btf);
  if (!sanitized.ok) return sanitized;
  const raw = sanitized.raw;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (const t of btf.types) {
    // .ksyms (extern kfuncs) has no ELF section: sanitizeKsyms has laid it out already.
    if (t.kind !== 'DATASEC' || t.name === '.ksyms') continue;
    const sec = sectionByName(elf, t.name);
    if (!sec) return { ok: false, reason: `BTF DATASEC '${t.name}' has no ELF section (an extern section the kernel cannot take)` };
    view.setUint32(t.offset + 8, sec.size, true);
    const fixed: { type: number; offset: number; size: number }[] = [];
    for (const v of t.vars) {
      const varType = btf.types[v.type];
      const name = varType?.kind === 'VAR' || varType?.kind === 'FUNC' ? varType.name : undefined;
      const sym = name === undefined ? undefined : elf.symbols.find((s) => s.shndx === sec.index && s.name === name && s.type !== STT.SECTION);
      if (!sym) return { ok: false, reason: `BTF variable #${v.type} of DATASEC '${t.name}' has no symbol in the section` };
      fixed.push({ type: v.type, offset: sym.value, size: v.size || sym.size });
    }
    fixed.sort((a, b) => a.offset - b.offset);
    fixed.forEach((v, i) => {
      const at = t.offset + 12 + i * 12;
      view.setUint32(at, v.type, true);
      view.setUint32(at + 4, v.offset, true);
      view.setUint32(at + 8, v.size, true);
    });
  }
  return { ok: true, raw };
}

interface RawLineInfo {
  /** Byte offset of the instruction in its ELF section. */
  readonly insnOff: number;
  readonly fileNameOff: number;
  readonly lineOff: number;
  readonly lineCol: number;
}

/**
 * The line_info records of .BTF.ext, by ELF section name, with the string
 * offsets kept as they are (they point into the same .BTF we load).
 * Layout: struct btf_ext_header { u16 magic; u8 version; u8 flags; u32 hdr_len;
 * u32 func_info_off, func_info_len, line_info_off, line_info_len; ... }, then at
 * hdr_len + line_info_off: u32 rec_size, and per section
 * { u32 sec_name_off; u32 num_info; records[num_info] }.
 */
function readLineInfo(elf: ElfFile, btf: Btf): Map<string, RawLineInfo[]> | undefined {
  const ext = sectionByName(elf, '.BTF.ext');
  if (!ext || ext.data.length < 24) return undefined;
  const v = new DataView(ext.data.buffer, ext.data.byteOffset, ext.data.byteLength);
  if (v.getUint16(0, true) !== 0xeb9f) return undefined;
  const hdrLen = v.getUint32(4, true);
  const start = hdrLen + v.getUint32(16, true);
  const end = start + v.getUint32(20, true);
  if (end > ext.data.length || end - start < 4) return undefined;
  const recSize = v.getUint32(start, true);
  if (recSize < 16) return undefined;
  const out = new Map<string, RawLineInfo[]>();
  for (let at = start + 4; at + 8 <= end;) {
    const name = stringAt(btf.strings, v.getUint32(at, true));
    const n = v.getUint32(at + 4, true);
    at += 8;
    if (name === undefined || at + n * recSize > end) return undefined;
    const list: RawLineInfo[] = [];
    for (let i = 0; i < n; i++, at += recSize) {
      list.push({
        insnOff: v.getUint32(at, true),
        fileNameOff: v.getUint32(at + 4, true),
        lineOff: v.getUint32(at + 8, true),
        lineCol: v.getUint32(at + 12, true),
      });
    }
    out.set(name, list);
  }
  return out;
}

function stringAt(strings: Uint8Array, off: number): string | undefined {
  if (off >= strings.length) return undefined;
  const end = strings.indexOf(0, off);
  return end < 0 ? undefined : Buffer.from(strings.subarray(off, end)).toString('utf8');
}

/** func_info and line_info of one linked program, or why it has none. */
export type ProgramBtfInfo =
  | { ok: true; info: Omit<ProgBtf, 'fd'> }
  | { ok: false; reason: string };

export function programBtfInfo(elf: ElfFile, btf: Btf, program: Program): ProgramBtfInfo {
  const funcs = [...program.funcs].sort((a, b) => a.slot - b.slot);
  const funcInfo = new Uint8Array(funcs.length * 8);
  const fv = new DataView(funcInfo.buffer);
  const lineRecords: RawLineInfo[] = [];
  const lines = readLineInfo(elf, btf);
  for (const [i, f] of funcs.entries()) {
    if (f.btfTypeId === undefined) return { ok: false, reason: `function '${f.name}' has no BTF func_info record` };
    fv.setUint32(i * 8, f.slot, true);
    fv.setUint32(i * 8 + 4, f.btfTypeId, true);
    const sec = sectionByName(elf, f.section);
    const sym = sec && elf.symbols.find((s) => s.shndx === sec.index && s.name === f.name && s.type === STT.FUNC);
    if (!sec || !sym) return { ok: false, reason: `function '${f.name}' has no symbol in section ${f.section}` };
    const from = sym.value;
    const to = sym.size > 0 ? sym.value + sym.size : sec.size;
    for (const r of lines?.get(f.section) ?? []) {
      if (r.insnOff >= from && r.insnOff < to) lineRecords.push({ ...r, insnOff: f.slot + (r.insnOff - from) / 8 });
    }
  }
  lineRecords.sort((a, b) => a.insnOff - b.insnOff);
  // The verifier wants a line_info record at the start of every function (check_btf_line).
  for (const f of funcs) {
    if (lineRecords.length > 0 && !lineRecords.some((r) => r.insnOff === f.slot)) {
      return { ok: false, reason: `no line_info record at the start of function '${f.name}'` };
    }
  }
  const lineInfo = new Uint8Array(lineRecords.length * 16);
  const lv = new DataView(lineInfo.buffer);
  lineRecords.forEach((r, i) => {
    lv.setUint32(i * 16, r.insnOff, true);
    lv.setUint32(i * 16 + 4, r.fileNameOff, true);
    lv.setUint32(i * 16 + 8, r.lineOff, true);
    lv.setUint32(i * 16 + 12, r.lineCol, true);
  });
  return {
    ok: true,
    info: { funcInfo, funcInfoCount: funcs.length, lineInfo, lineInfoCount: lineRecords.length },
  };
}

/**
 * A minimal ELF64 BPF relocatable writer for tests: one code section holding
 * the given bytes, with a global function symbol at its start. Enough for
 * llvm-objdump and our loader to read; not a general ELF writer.
 */

export interface MiniElfOptions {
  section?: string;
  symbol?: string;
}

export function miniElf(code: Uint8Array, opts: MiniElfOptions = {}): Uint8Array {
  const section = opts.section ?? 'xdp';
  const symbol = opts.symbol ?? 'prog';
  const enc = new TextEncoder();
  const shstr = enc.encode(`\0${section}\0.symtab\0.strtab\0.shstrtab\0`);
  const nameOff = (n: string) => `\0${section}\0.symtab\0.strtab\0.shstrtab\0`.indexOf(`\0${n}\0`) + 1;
  const strtab = enc.encode(`\0${symbol}\0`);
  const symtab = new Uint8Array(48);
  const sv = new DataView(symtab.buffer);
  sv.setUint32(24, 1, true); // name
  sv.setUint8(24 + 4, (1 << 4) | 2); // GLOBAL FUNC
  sv.setUint16(24 + 6, 1, true); // section 1
  sv.setBigUint64(24 + 16, BigInt(code.length), true);

  const parts = [code, symtab, strtab, shstr];
  let at = 64;
  const offsets = parts.map((p) => {
    const o = at;
    at += p.length;
    at = (at + 7) & ~7;
    return o;
  });
  const shoff = at;
  const out = new Uint8Array(shoff + 5 * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(16, 1, true); // ET_REL
  v.setUint16(18, 247, true); // EM_BPF
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, 5, true);
  v.setUint16(62, 4, true);
  parts.forEach((p, i) => out.set(p, offsets[i]!));
  const header = (i: number, name: number, type: number, flags: number, off: number, size: number, link = 0, info = 0, entsize = 0) => {
    const h = shoff + i * 64;
    v.setUint32(h, name, true);
    v.setUint32(h + 4, type, true);
    v.setBigUint64(h + 8, BigInt(flags), true);
    v.setBigUint64(h + 24, BigInt(off), true);
    v.setBigUint64(h + 32, BigInt(size), true);
    v.setUint32(h + 40, link, true);
    v.setUint32(h + 44, info, true);
    v.setBigUint64(h + 48, 8n, true);
    v.setBigUint64(h + 56, BigInt(entsize), true);
  };
  header(1, nameOff(section), 1, 0x6, offsets[0]!, code.length);
  header(2, nameOff('.symtab'), 2, 0, offsets[1]!, symtab.length, 3, 1, 24);
  header(3, nameOff('.strtab'), 3, 0, offsets[2]!, strtab.length);
  header(4, nameOff('.shstrtab'), 3, 0, offsets[3]!, shstr.length);
  return out;
}

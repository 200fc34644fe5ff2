import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InstructionError, ObjectFormatError } from '../../xdp/errors.js';
import { parseElf, sectionByName } from '../../xdp/elf/elf.js';
import { loadObject } from '../../xdp/object/load-object.js';
import { FIXTURE_OBJ } from '../support/paths.js';
import { miniElf } from '../support/mini-elf.js';

const original = (name: string) => new Uint8Array(readFileSync(join(FIXTURE_OBJ, `${name}.o`)));

/** Patch a copy of `bytes`: a little-endian u32/u64 at `at`. */
function patch(bytes: Uint8Array, at: number, value: number, width: 4 | 8 = 4): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  if (width === 4) v.setUint32(at, value, true);
  else v.setBigUint64(at, BigInt(value), true);
  return out;
}

function expectRefusal(bytes: Uint8Array, cls: new (...a: never[]) => Error, message: RegExp): void {
  let error: unknown;
  try {
    loadObject(bytes, 'bad.o');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(cls);
  expect((error as Error).message).toMatch(/^bad\.o/);
  expect((error as Error).message).toMatch(message);
}

describe('corrupt objects are refused with the file, the place and what was expected', () => {
  it('a file shorter than the ELF header', () => {
    expectRefusal(original('mac_swap_tx').subarray(0, 40), ObjectFormatError, /offset 0x0: file is 40 bytes, shorter than the 64-byte ELF64 header/);
  });

  it('wrong magic, class and machine', () => {
    const o = original('mac_swap_tx');
    expectRefusal(patch(o, 0, 0x464c457e), ObjectFormatError, /not an ELF file/);
    const wrongClass = o.slice();
    wrongClass[4] = 1;
    expectRefusal(wrongClass, ObjectFormatError, /offset 0x4: ELF class 1: expected 2/);
    const x86 = o.slice();
    new DataView(x86.buffer).setUint16(18, 62, true);
    expectRefusal(x86, ObjectFormatError, /offset 0x12: ELF machine 62: expected 247 \(BPF\)/);
  });

  it('a truncated object (section contents cut off)', () => {
    const o = original('proto_count_array');
    expectRefusal(o.subarray(0, o.length - 100), ObjectFormatError, /truncated: expected/);
  });

  it('a section whose contents lie past the end of the file', () => {
    const o = original('mac_swap_tx');
    const elf = parseElf(o, 'x');
    const shoff = Number(new DataView(o.buffer).getBigUint64(40, true));
    const xdp = sectionByName(elf, 'xdp')!;
    expectRefusal(patch(o, shoff + xdp.index * 64 + 32, 1 << 30, 8), ObjectFormatError, /truncated: expected contents of section \d+ \(\d+ bytes at offset \d+\) but the file ends at 0x[0-9a-f]+/);
  });

  it('a relocation that points past its section, or at the wrong instruction', () => {
    const o = original('proto_count_array');
    const elf = parseElf(o, 'x');
    const xdp = sectionByName(elf, 'xdp')!;
    const rel = elf.relocations.get(xdp.index)!;
    expectRefusal(patch(o, rel.table.offset, xdp.size + 8, 8), ObjectFormatError, /section xdp, offset 0x[0-9a-f]+: relocation at offset \d+ is not at an instruction/);
    // Point the first R_BPF_64_64 at instruction 0, which is not an lddw.
    expectRefusal(patch(o, rel.table.offset, 0, 8), ObjectFormatError, /R_BPF_64_64 must patch an lddw instruction/);
  });

  it('a relocation that names a symbol that does not exist', () => {
    const o = original('proto_count_array');
    const elf = parseElf(o, 'x');
    const rel = elf.relocations.get(sectionByName(elf, 'xdp')!.index)!;
    expectRefusal(patch(o, rel.table.offset + 12, 9999), ObjectFormatError, /relocation refers to symbol 9999, but the symbol table has \d+/);
  });

  it('BTF that lies about sizes: a truncated type section, a struct smaller than its members', () => {
    const o = original('proto_count_array');
    const btf = sectionByName(parseElf(o, 'x'), '.BTF')!;
    // BTF header: type_len at +12; shrinking it cuts the type section short.
    expectRefusal(patch(o, btf.offset + 12, 10), ObjectFormatError, /bad\.o, section \.BTF, offset 0x[0-9a-f]+: truncated type/);
    // Find struct proto_counters (two u64 members, 16 bytes) and declare it 8 bytes long.
    const obj = loadObject(o, 'x');
    const value = obj.maps[0]!.valueTypeId!;
    const bad = o.slice();
    const view = new DataView(bad.buffer);
    // The type record's offset is relative to .BTF; its size word is 8 bytes in.
    const at = btf.offset + obj.btf!.types[value]!.offset + 8;
    expect(view.getUint32(at, true)).toBe(16);
    view.setUint32(at, 8, true);
    expectRefusal(bad, ObjectFormatError, /member 'bytes' ends at bit 128, past the declared size of 8 bytes/);
  });

  it('an instruction stream that is not a whole number of instructions', () => {
    const code = new Uint8Array(12);
    code[0] = 0x95;
    expectRefusal(miniElf(code), InstructionError, /section xdp, offset 0x8: instruction stream of 12 bytes is not a multiple of 8/);
  });

  it('an lddw cut in half at the end of a section', () => {
    const code = new Uint8Array(16);
    code[0] = 0xb7;
    code[8] = 0x18;
    expectRefusal(miniElf(code), InstructionError, /section xdp, offset 0x8: lddw at the end of the stream has no second slot/);
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InstructionError } from '../../xdp/errors.js';
import { parseElf } from '../../xdp/elf/elf.js';
import { decode, encode, lddwValue, makeInsn, makeLddw } from '../../xdp/isa/insn.js';
import { kindOf, reservedFieldIssue } from '../../xdp/isa/kind.js';
import { loadObjectFile } from '../../xdp/object/load-object.js';
import { isCodeSection } from '../../xdp/object/code-sections.js';
import { objdumpListing } from '../../xdp/object/objdump.js';
import { REPO, fixtureObjects, hasCommand } from '../support/paths.js';

describe('instruction encoding', () => {
  it.each(fixtureObjects().map((p) => [basename(p), p]))('%s: encode(decode(section)) is the identity', (_n, path) => {
    const elf = parseElf(readFileSync(path), path);
    const code = elf.sections.filter(isCodeSection);
    expect(code.length).toBeGreaterThan(0);
    for (const s of code) expect(encode(decode(s.data))).toEqual(new Uint8Array(s.data));
  });

  it('lddw keeps its 64-bit constant and its second slot', () => {
    const i = makeLddw(3, 0x1122334455667788n);
    expect(lddwValue(i)).toBe(0x1122334455667788n);
    expect(decode(encode([i]))).toEqual([i]);
    expect(lddwValue(makeLddw(0, -1n))).toBe(0xffffffffffffffffn);
  });

  it('refuses fields that do not fit instead of truncating them', () => {
    expect(() => encode([makeInsn(0xb7, 16)])).toThrow(InstructionError);
    expect(() => encode([makeInsn(0xb7, 0, 0, 0x8000)])).toThrow(/offset 32768 does not fit 16 bits/);
    expect(() => encode([makeInsn(0xb7, 0, 0, 0, 2 ** 31)])).toThrow(/insn 0: immediate/);
  });

  it('names what each opcode does, and reserved fields the kernel would refuse', () => {
    expect(kindOf(makeInsn(0x3f, 1, 2, 1))).toEqual({ k: 'alu', width: 64, op: 'sdiv', useReg: true });
    expect(kindOf(makeInsn(0xbc, 1, 2, 8))).toEqual({ k: 'alu', width: 32, op: 'movsx', useReg: true, fromBits: 8 });
    expect(kindOf(makeInsn(0xd7, 1, 0, 0, 32))).toEqual({ k: 'end', order: 'bswap', bits: 32 });
    expect(kindOf(makeInsn(0xdc, 1, 0, 0, 16))).toEqual({ k: 'end', order: 'be', bits: 16 });
    expect(kindOf(makeInsn(0x06, 0, 0, 0, 5))).toEqual({ k: 'ja', long: true });
    expect(kindOf(makeInsn(0xdb, 1, 2, 0, 0xf1))).toEqual({ k: 'atomic', size: 8, op: 'cmpxchg', fetch: true });
    expect(kindOf(makeInsn(0xc3, 1, 2, 0, 0x41))).toEqual({ k: 'atomic', size: 4, op: 'or', fetch: true });
    expect(kindOf(makeInsn(0x91, 1, 2))).toEqual({ k: 'ldx', size: 1, signed: true });
    expect(kindOf(makeInsn(0x30, 0, 0, 0, 4))).toEqual({ k: 'ldpkt', indirect: false, size: 1 });
    expect(kindOf(makeInsn(0x8d, 2))).toEqual({ k: 'call', target: 'reg' });
    expect(kindOf(makeInsn(0xdb, 1, 2, 0, 0x02)).k).toBe('invalid');
    expect(kindOf(makeInsn(0xe7, 1)).k).toBe('invalid');
    expect(reservedFieldIssue(makeInsn(0x87, 1, 2))).toBe('BPF_NEG uses reserved fields');
    expect(reservedFieldIssue(makeInsn(0x95, 0, 0, 0, 1))).toBe('BPF_EXIT uses reserved fields');
    expect(reservedFieldIssue(makeInsn(0x07, 1, 0, 0, 5))).toBeUndefined();
  });
});

// The same C compiled for the big-endian target: the loader reads the same maps, and our listing of the
// big-endian code equals llvm-objdump's (the code itself differs: byte-order constants change codegen).
const HAVE_CLANG = hasCommand('clang') && existsSync('/usr/include/bpf/bpf_helpers.h');
if (!HAVE_CLANG) console.log('SKIP big-endian objects: needs clang and libbpf-dev');

describe.runIf(HAVE_CLANG)('big-endian objects (-target bpfeb)', () => {
  it.each(['proto_count_array', 'subprog_call', 'firewall_5tuple'])('%s', (name) => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfeb-'));
    const out = join(dir, `${name}.o`);
    const inc = existsSync('/usr/include/asm') ? [] : ['-I/usr/include/x86_64-linux-gnu'];
    execFileSync('clang', ['-O2', '-g', '-target', 'bpfeb', ...inc, '-c', join('fixtures', 'src', `${name}.c`), '-o', out], { cwd: REPO });
    const be = loadObjectFile(out);
    const le = loadObjectFile(join(REPO, 'fixtures', 'obj', `${name}.o`));
    expect(be.littleEndian).toBe(false);
    expect(be.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]))
      .toEqual(le.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]));
    expect(be.programs.map((p) => [p.name, p.funcs.length])).toEqual(le.programs.map((p) => [p.name, p.funcs.length]));
    const norm = (t: string) => t.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => !l.includes('file format'));
    if (hasCommand('llvm-objdump')) {
      const theirs = execFileSync('llvm-objdump', ['-d', '-r', out], { encoding: 'utf8' });
      expect(norm(objdumpListing(be.elf, out, { relocs: true }))).toEqual(norm(theirs));
    }
    expect(be.programs[0]!.lines.filter(Boolean).length).toBeGreaterThan(0);
  });
});

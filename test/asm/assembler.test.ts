import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, MNEMONICS } from '../../xdp/asm/assembler.js';
import { bytesToWords, conformanceProgram, parseConformanceFile } from '../../xdp/asm/conformance.js';
import { AsmError } from '../../xdp/errors.js';
import { decode, encode, type Insn } from '../../xdp/isa/insn.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const suiteDir = path.resolve(repoRoot, '..', 'shared', 'conformance');
const haveSuite = existsSync(suiteDir);
if (!haveSuite) console.log(`skipping conformance-suite tests: ${suiteDir} not found`);

interface SuiteFile {
  name: string;
  text: string;
}
const suite: SuiteFile[] = haveSuite
  ? readdirSync(suiteDir)
      .filter((n) => n.endsWith('.data'))
      .sort()
      .map((name) => ({ name, text: readFileSync(path.join(suiteDir, name), 'utf8') }))
  : [];

/** The program as 64-bit words (low byte = opcode), the suite's `-- raw` form. */
const words = (insns: readonly Insn[]): bigint[] => bytesToWords(encode(insns));
const asmWords = (source: string): bigint[] => words(assemble(source));

/** The AsmError `fn` throws; fails the test if it throws anything else or nothing. */
function asmError(fn: () => unknown): AsmError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AsmError);
    return e as AsmError;
  }
  throw new Error('expected an AsmError, but nothing was thrown');
}

describe.skipIf(!haveSuite)('the bpf_conformance suite', () => {
  it('has its files', () => {
    expect(suite.length).toBeGreaterThan(0);
  });

  it('assembles every program', () => {
    let assembled = 0;
    const failures: string[] = [];
    for (const f of suite) {
      try {
        const c = parseConformanceFile(f.text, f.name);
        expect(c.asm, `${f.name} has no -- asm`).toBeDefined();
        const insns = assemble(c.asm!, f.name, c.asmLine);
        expect(insns.length).toBeGreaterThan(0);
        assembled++;
      } catch (e) {
        failures.push(`${f.name}: ${(e as Error).message}`);
      }
    }
    console.log(`assembled ${assembled} of ${suite.length} conformance programs`);
    expect(failures).toEqual([]);
    expect(assembled).toBe(suite.length);
  });

  it('assembles -- asm to exactly the -- raw words where a file has both', () => {
    const both = suite.map((f) => parseConformanceFile(f.text, f.name)).filter((c) => c.asm !== undefined && c.raw !== undefined);
    console.log(`files with both -- asm and -- raw: ${both.map((c) => c.file).join(', ')}`);
    expect(both.length).toBeGreaterThan(0);
    for (const c of both) {
      expect(words(assemble(c.asm!, c.file, c.asmLine)), c.file).toEqual(c.raw);
      expect(conformanceProgram(c), c.file).toStrictEqual(assemble(c.asm!));
    }
  });

  it('round-trips every program through encode and decode', () => {
    for (const f of suite) {
      const insns = conformanceProgram(parseConformanceFile(f.text, f.name));
      expect(decode(encode(insns)), f.name).toStrictEqual(insns);
    }
  });

  it('parses the sections of known files', () => {
    const read = (name: string) => parseConformanceFile(readFileSync(path.join(suiteDir, name), 'utf8'), name);
    const lddw = read('lddw.data');
    expect(lddw.raw).toEqual([0x5566778800000018n, 0x1122334400000000n, 0x95n]);
    expect(lddw.result).toBe(0x1122334455667788n);
    expect(lddw.asmLine).toBe(4);
    const subnet = read('subnet.data');
    expect(subnet.mem?.length).toBe(74);
    expect(subnet.mem?.slice(0, 4)).toEqual(Uint8Array.from([0x00, 0x00, 0xc0, 0x9f]));
    expect(subnet.c).toContain('uint64_t entry(void *mem)');
    expect(read('callx.data').options).toEqual(['no register offset']);
    const memLen = read('mem-len.data');
    expect(memLen.options).toEqual(['no register offset']);
    expect(memLen.result).toBe(8n);
    expect(read('exit.data').options).toEqual([]);
  });

  it('encodes callx.data with the register in dst', () => {
    const c = parseConformanceFile(readFileSync(path.join(suiteDir, 'callx.data'), 'utf8'), 'callx.data');
    const call = conformanceProgram(c)[2]!;
    expect(call).toStrictEqual({ code: 0x8d, dst: 2, src: 0, off: 0, imm: 0 });
  });
});

describe('conformance file parsing', () => {
  const file = [
    '# Copyright (c) nobody',
    '# SPDX-License-Identifier: MIT',
    '-- asm',
    'mov %r0, 1 # one',
    'exit',
    '-- mem',
    '00 01 ff',
    'aB',
    '-- result',
    '-1',
    '-- error',
    'some error',
    '-- no register offset',
    'a note',
  ].join('\n');

  it('reads every section kind', () => {
    const c = parseConformanceFile(file, 't.data');
    expect(c.asm).toBe('mov %r0, 1 # one\nexit');
    expect(c.asmLine).toBe(4);
    expect(c.mem).toEqual(Uint8Array.from([0, 1, 0xff, 0xab]));
    expect(c.result).toBe(0xffffffffffffffffn);
    expect(c.error).toBe('some error');
    expect(c.options).toEqual(['no register offset']);
    expect(c.raw).toBeUndefined();
    expect(conformanceProgram(c)).toStrictEqual(assemble('mov %r0, 1\nexit'));
  });

  it('decodes -- raw words little-endian into instructions', () => {
    const c = parseConformanceFile('-- raw\n0x00000005000001b7\n0x95\n-- result\n5', 'r.data');
    expect(conformanceProgram(c)).toStrictEqual([
      { code: 0xb7, dst: 1, src: 0, off: 0, imm: 5 },
      { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
    ]);
  });

  it('reports assembly errors at the line of the file', () => {
    const c = parseConformanceFile('# header\n-- asm\nmov %r0, 1\nfrob %r0\nexit\n-- result\n0', 'bad.data');
    const e = asmError(() => conformanceProgram(c));
    expect(e.line).toBe(4);
    expect(e.message).toContain('bad.data');
  });

  it('refuses malformed files with AsmError and a line number', () => {
    expect(asmError(() => parseConformanceFile('-- asm\nexit\n-- bogus\n', 'x')).line).toBe(3);
    expect(asmError(() => parseConformanceFile('-- mem\n00 zz\n', 'x')).line).toBe(2);
    expect(asmError(() => parseConformanceFile('-- raw\n0x95\n0x1g\n', 'x')).line).toBe(3);
    expect(asmError(() => parseConformanceFile('-- result\n1 2\n', 'x')).line).toBe(2);
    expect(asmError(() => parseConformanceFile('-- result\n', 'x')).line).toBe(2);
    expect(asmError(() => parseConformanceFile('mov %r0, 1\n-- asm\n', 'x')).line).toBe(1);
    expect(asmError(() => parseConformanceFile('-- asm\nexit\n-- asm\nexit\n', 'x')).line).toBe(3);
    expect(asmError(() => conformanceProgram(parseConformanceFile('-- result\n0\n', 'x'))).line).toBe(1);
  });
});

/**
 * Hand-computed 64-bit words (RFC 9669 §3: opcode in bits 0-7, dst 8-11, src 12-15,
 * offset 16-31, imm 32-63), one or more per instruction family.
 */
const ENCODINGS: ReadonlyArray<readonly [string, readonly bigint[]]> = [
  // ALU64 register and immediate (opcode = op | X/K | class 7)
  ['add %r1, %r2', [0x000000000000210fn]],
  ['add %r1, 5', [0x0000000500000107n]],
  ['sub %r0, %r9', [0x000000000000901fn]],
  ['div %r1, 3', [0x0000000300000137n]],
  ['and %r1, %r1', [0x000000000000115fn]],
  ['lsh %r1, 63', [0x0000003f00000167n]],
  ['xor %r5, %r6', [0x00000000000065afn]],
  ['mov %r10, -1', [0xffffffff00000ab7n]],
  ['mod %r4, %r3', [0x000000000000349fn]],
  ['arsh %r1, %r2', [0x00000000000021cfn]],
  ['or %r7, 0x7fffffff', [0x7fffffff00000747n]],
  // ALU (32-bit, class 4)
  ['add32 %r3, -1', [0xffffffff00000304n]],
  ['mov32 %r0, 0xffffffff', [0xffffffff000000b4n]],
  ['mul32 %r2, %r3', [0x000000000000322cn]],
  ['or32 %r1, 0x10', [0x0000001000000144n]],
  ['rsh32 %r1, %r2', [0x000000000000217cn]],
  ['mod32 %r1, 7', [0x0000000700000194n]],
  ['arsh32 %r1, 4', [0x00000004000001c4n]],
  ['sub32 %r1, -2147483648', [0x8000000000000114n]],
  // NEG (source K, no operand)
  ['neg %r2', [0x0000000000000287n]],
  ['neg32 %r2', [0x0000000000000284n]],
  // signed division and modulo: DIV/MOD with offset 1
  ['sdiv %r1, %r2', [0x000000000001213fn]],
  ['sdiv32 %r1, 3', [0x0000000300010134n]],
  ['smod %r1, -3', [0xfffffffd00010197n]],
  ['smod32 %r1, %r2', [0x000000000001219cn]],
  // MOVSX: MOV | X with offset 8/16/32
  ['movsx832 %r0, %r1', [0x00000000000810bcn]],
  ['movsx1632 %r0, %r1', [0x00000000001010bcn]],
  ['movsx864 %r0, %r1', [0x00000000000810bfn]],
  ['movsx1664 %r0, %r1', [0x00000000001010bfn]],
  ['movsx3264 %r0, %r1', [0x00000000002010bfn]],
  // byte order: ALU END K (le), ALU END X (be), ALU64 END K (bswap / swap); imm = width
  ['le16 %r0', [0x00000010000000d4n]],
  ['le32 %r0', [0x00000020000000d4n]],
  ['le64 %r0', [0x00000040000000d4n]],
  ['be16 %r1', [0x00000010000001dcn]],
  ['be32 %r1', [0x00000020000001dcn]],
  ['be64 %r1', [0x00000040000001dcn]],
  ['bswap16 %r2', [0x00000010000002d7n]],
  ['bswap32 %r2', [0x00000020000002d7n]],
  ['bswap64 %r2', [0x00000040000002d7n]],
  ['swap16 %r2', [0x00000010000002d7n]],
  ['swap32 %r2', [0x00000020000002d7n]],
  ['swap64 %r2', [0x00000040000002d7n]],
  // loads: LDX | MEM | size
  ['ldxb %r0, [%r1+2]', [0x0000000000021071n]],
  ['ldxh %r0, [%r1]', [0x0000000000001069n]],
  ['ldxw %r2, [%r10-4]', [0x00000000fffca261n]],
  ['ldxdw %r3, [%r1+0x10]', [0x0000000000101379n]],
  // sign-extending loads: LDX | MEMSX | size
  ['ldxsb %r0, [%r10-1]', [0x00000000ffffa091n]],
  ['ldxsh %r0, [%r1+2]', [0x0000000000021089n]],
  ['ldxsw %r0, [%r1]', [0x0000000000001081n]],
  // stores of an immediate: ST | MEM | size
  ['stb [%r10-1], 0x80', [0x00000080ffff0a72n]],
  ['sth [%r1+2], 0x1122', [0x000011220002016an]],
  ['stw [%r1], -1', [0xffffffff00000162n]],
  ['stdw [%r10-16], 0xab', [0x000000abfff00a7an]],
  // stores of a register: STX | MEM | size
  ['stxb [%r10-8], %r1', [0x00000000fff81a73n]],
  ['stxh [%r1+4], %r2', [0x000000000004216bn]],
  ['stxw [%r1], %r2', [0x0000000000002163n]],
  ['stxdw [%r10-8], %r0', [0x00000000fff80a7bn]],
  // atomics: STX | ATOMIC | W (0xc3) or DW (0xdb), operation in imm
  ['lock add [%r10-8], %r1', [0x00000000fff81adbn]],
  ['lock add32 [%r10-8], %r1', [0x00000000fff81ac3n]],
  ['lock or [%r1], %r2', [0x00000040000021dbn]],
  ['lock or32 [%r1], %r2', [0x00000040000021c3n]],
  ['lock and [%r1], %r2', [0x00000050000021dbn]],
  ['lock and32 [%r1], %r2', [0x00000050000021c3n]],
  ['lock xor [%r1], %r2', [0x000000a0000021dbn]],
  ['lock xor32 [%r1], %r2', [0x000000a0000021c3n]],
  ['lock fetch add [%r1], %r2', [0x00000001000021dbn]],
  ['lock fetch add32 [%r1], %r2', [0x00000001000021c3n]],
  ['lock fetch or [%r1], %r2', [0x00000041000021dbn]],
  ['lock fetch or32 [%r1], %r2', [0x00000041000021c3n]],
  ['lock fetch and [%r1], %r2', [0x00000051000021dbn]],
  ['lock fetch and32 [%r1], %r2', [0x00000051000021c3n]],
  ['lock fetch xor [%r1], %r2', [0x000000a1000021dbn]],
  ['lock fetch xor32 [%r1], %r2', [0x000000a1000021c3n]],
  ['lock xchg [%r10-8], %r1', [0x000000e1fff81adbn]],
  ['lock xchg32 [%r10-8], %r1', [0x000000e1fff81ac3n]],
  ['lock cmpxchg [%r10-8], %r1', [0x000000f1fff81adbn]],
  ['lock cmpxchg32 [%r10-8], %r1', [0x000000f1fff81ac3n]],
  // lddw: two slots, low then high half of the constant
  ['lddw %r0, 0x1122334455667788', [0x5566778800000018n, 0x1122334400000000n]],
  ['lddw %r1, -1', [0xffffffff00000118n, 0xffffffff00000000n]],
  ['lddw %r2, 0x80000000', [0x8000000000000218n, 0n]],
  // ja: offset field; ja32: JMP32 class, offset in imm
  ['ja +2', [0x0000000000020005n]],
  ['ja -1', [0x00000000ffff0005n]],
  ['ja32 +3', [0x0000000300000006n]],
  ['ja32 -2', [0xfffffffe00000006n]],
  // conditional jumps with numeric targets
  ['jeq %r1, 5, +3', [0x0000000500030115n]],
  ['jne %r1, %r2, -1', [0x00000000ffff215dn]],
  ['jgt32 %r1, 0x80000000, +1', [0x8000000000010126n]],
  ['jsle32 %r3, %r4, +0', [0x00000000000043den]],
  ['jset %r0, 1, +7', [0x0000000100070045n]],
  // calls and exit
  ['call 5', [0x0000000500000085n]],
  ['call %r2', [0x000000000000028dn]],
  ['exit', [0x0000000000000095n]],
];

describe('instruction encodings (hand-computed from RFC 9669)', () => {
  it.each(ENCODINGS)('%s', (source, expected) => {
    expect(asmWords(source)).toEqual(expected);
  });

  it('resolves labels in 8-byte slots, lddw counting two', () => {
    // ja over one instruction: off 1
    expect(asmWords('ja L\nmov %r0, 0\nL:\nexit')[0]).toBe(0x0000000000010005n);
    // ja over an lddw: off 2
    expect(asmWords('ja L\nlddw %r0, 1\nL:\nexit')[0]).toBe(0x0000000000020005n);
    // backward conditional jump over an lddw: the jeq in slot 2 jumps to slot 0 → off -3
    expect(asmWords('L:\nlddw %r1, 1\njeq %r1, %r2, L\nexit')[2]).toBe(0x00000000fffd211dn);
    // ja32 to a label: offset in imm
    expect(asmWords('ja32 L\nmov %r0, 0\nmov %r0, 1\nL:\nexit')[0]).toBe(0x0000000200000006n);
    // jump32 with label target
    expect(asmWords('jne32 %r1, 0, L\nexit\nL:\nexit')[0]).toBe(0x0000000000010156n);
    // label after the last instruction is the slot count
    expect(asmWords('jeq %r1, 0, end\nexit\nend:')[0]).toBe(0x0000000000010115n);
  });

  it('uses the first exit as the implicit label "exit"', () => {
    // jne at slot 1 → first exit at slot 3: off 1
    expect(asmWords('mov %r0, 0\njne %r0, 1, exit\nmov %r0, 2\nexit\nmov %r0, 3\nexit')[1]).toBe(0x0000000100010055n);
    // an explicit exit: label wins
    expect(asmWords('ja exit\nexit\nexit:\nexit')[0]).toBe(0x0000000000010005n);
  });

  it('encodes call local with src 1 and imm = target - pc - 1', () => {
    expect(asmWords('call local f\nexit\nf:\nexit')[0]).toBe(0x0000000100001085n);
    expect(asmWords('f:\nmov %r0, 1\nexit\ncall local f\nexit')[2]).toBe(0xfffffffd00001085n);
  });

  it('maps every jump mnemonic to its opcode (JMP 0x05, JMP32 0x06 class; +8 for a register source)', () => {
    const ops: Record<string, number> = {
      jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70,
      jlt: 0xa0, jle: 0xb0, jslt: 0xc0, jsle: 0xd0,
    };
    for (const [name, op] of Object.entries(ops)) {
      expect(assemble(`${name} %r1, 1, +1`)[0]!.code, name).toBe(op | 0x05);
      expect(assemble(`${name} %r1, %r2, +1`)[0]!.code, name).toBe(op | 0x0d);
      expect(assemble(`${name}32 %r1, 1, +1`)[0]!.code, name).toBe(op | 0x06);
      expect(assemble(`${name}32 %r1, %r2, +1`)[0]!.code, name).toBe(op | 0x0e);
    }
  });

  it('accepts comments, blank lines, case and spacing variants', () => {
    expect(asmWords('  # only a comment\n\n  MOV %R1 ,  5   # trailing\n\tEXIT\n')).toEqual([0x00000005000001b7n, 0x95n]);
    expect(asmWords('ldxw %r2, [ %r10 - 4 ]')).toEqual([0x00000000fffca261n]);
    expect(asmWords('mov %r0, 0X10')).toEqual([0x00000010000000b7n]);
  });

  it('has one table row per mnemonic family member', () => {
    expect(MNEMONICS.size).toBeGreaterThan(100);
    for (const name of ['mov', 'mov32', 'sdiv32', 'smod', 'movsx3264', 'swap16', 'bswap64', 'ldxsw', 'lock fetch xor32', 'call local', 'ja32']) {
      expect(MNEMONICS.has(name), name).toBe(true);
    }
  });
});

describe('bad input', () => {
  const cases: ReadonlyArray<readonly [string, string, number, RegExp]> = [
    ['unknown mnemonic', 'mov %r0, 1\nfrob %r1\nexit', 2, /unknown mnemonic 'frob'/],
    ['unknown atomic', 'lock nand [%r1], %r2', 1, /unknown atomic operation/],
    ['register above r10', 'exit\n\nmov %r11, 1', 3, /register %r11 does not exist/],
    ['register above r10 in memory', 'ldxw %r1, [%r12+4]', 1, /%r12/],
    ['not a register', 'mov %x1, 1', 1, /expected a register/],
    ['missing operand', 'mov %r0, 1\nadd %r1', 2, /takes 2 operands/],
    ['empty operand', 'mov %r0,', 1, /operand 2 of 'mov' is missing/],
    ['too many operands', 'exit %r0', 1, /takes 0 operands/],
    ['neg with a source', 'neg %r0, 1', 1, /takes 1 operand/],
    ['call without target', 'call', 1, /takes 1 operand/],
    ['call local without target', 'call local', 1, /takes 1 operand/],
    ['movsx from an immediate', 'movsx832 %r0, 5', 1, /expected a register/],
    ['undefined label', 'mov %r0, 1\n\nja nowhere\nexit', 3, /undefined label 'nowhere'/],
    ['undefined exit label', 'ja exit', 1, /undefined label 'exit'/],
    ['undefined call target', 'call local f\nexit', 1, /undefined label 'f'/],
    ['duplicate label', 'a:\nexit\na:\nexit', 3, /already defined on line 1/],
    ['bad label name', '1a:\nexit', 1, /not a valid label name/],
    ['label with an instruction', 'a: exit', 1, /own/],
    ['numeric jump out of range', 'ja +32768', 1, /does not fit the signed 16-bit/],
    ['negative numeric jump out of range', 'exit\njeq %r1, 0, -32769', 2, /does not fit the signed 16-bit/],
    ['bad jump target', 'ja %r1', 1, /expected a label or/],
    ['immediate too large', 'mov %r0, 0x100000000', 1, /does not fit 32 bits/],
    ['immediate too small', 'mov %r0, -2147483649', 1, /does not fit 32 bits/],
    ['lddw constant too large', 'lddw %r0, 0x10000000000000000', 1, /does not fit 64 bits/],
    ['not a number', 'mov %r0, 12abc', 1, /expected a number/],
    ['memory offset too large', 'stb [%r1+32768], 1', 1, /does not fit the signed 16-bit/],
    ['malformed memory operand', 'ldxb %r0, %r1+2', 1, /expected a memory operand/],
    ['unclosed memory operand', 'ldxb %r0, [%r1+2', 1, /expected a memory operand/],
    ['double sign in memory operand', 'ldxb %r0, [%r1+-2]', 1, /unsigned number/],
    ['store from a register with st', 'stw [%r1], %r2', 1, /expected a number/],
    ['store an immediate with stx', 'stxw [%r1], 5', 1, /expected a register/],
  ];

  it.each(cases)('%s', (_what, source, line, message) => {
    const e = asmError(() => assemble(source, 'prog.s'));
    expect(e.line).toBe(line);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^prog\.s: line \d+: /);
  });

  it('reports a label jump out of the 16-bit range, while ja32 reaches it', () => {
    const far = ['ja far', ...Array.from({ length: 40000 }, () => 'mov %r0, 0'), 'far:', 'exit'].join('\n');
    const e = asmError(() => assemble(far));
    expect(e.line).toBe(1);
    expect(e.message).toMatch(/out of range/);
    expect(assemble(far.replace('ja far', 'ja32 far'))[0]!.imm).toBe(40000);
  });

  it('accepts the edges of each range', () => {
    expect(assemble('mov %r0, -2147483648')[0]!.imm).toBe(-0x80000000);
    expect(assemble('mov %r0, 4294967295')[0]!.imm).toBe(-1);
    expect(assemble('ja -32768')[0]!.off).toBe(-32768);
    expect(assemble('stb [%r1-32768], 1')[0]!.off).toBe(-32768);
    expect(asmWords('lddw %r0, 0xffffffffffffffff')).toEqual([0xffffffff00000018n, 0xffffffff00000000n]);
    expect(asmWords('lddw %r0, -9223372036854775808')).toEqual([0x18n, 0x8000000000000000n]);
  });
});

describe('robustness (fast-check, fixed seed)', () => {
  /** Assemble; an AsmError is fine, anything else is a bug. */
  const assemblesOrAsmError = (source: string): boolean => {
    try {
      assemble(source);
    } catch (e) {
      if (!(e instanceof AsmError)) throw e;
    }
    return true;
  };

  it('random strings assemble or throw AsmError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), assemblesOrAsmError), { seed: 0x5eed, numRuns: 3000 });
  });

  it('random token soups assemble or throw AsmError', () => {
    const token = fc.constantFrom(
      ...[...MNEMONICS.keys()],
      '%r0', '%r1', '%r10', '%r11', '%r', 'r1', ',', ', ', ' ', '[', ']', '[%r1+4]', '[%r10-8]', '[%r1]', '+', '-',
      '0', '1', '-1', '0x', '0xffffffff', '0x100000000', '99999999999999999999', '+3', '-3', 'L', 'L:', 'exit', ':',
      '\n', '\n', '#', 'local', 'fetch',
    );
    fc.assert(fc.property(fc.array(token, { maxLength: 40 }).map((t) => t.join('')), assemblesOrAsmError), {
      seed: 0xb9f,
      numRuns: 3000,
    });
  });

  it.skipIf(!haveSuite)('mutations of conformance programs assemble or throw AsmError', () => {
    const programs = suite.map((f) => parseConformanceFile(f.text, f.name).asm!);
    const mutation = fc.record({
      kind: fc.constantFrom('delete', 'insert', 'replace', 'dropLine', 'dupLine', 'swapLines'),
      at: fc.nat(),
      other: fc.nat(),
      ch: fc.constantFrom(...'%r0123456789xabcdef+-[],: \n#ljme'.split(''), 'lock', 'call', '32', '0xffffffff'),
    });
    const mutate = (src: string, ms: ReadonlyArray<{ kind: string; at: number; other: number; ch: string }>): string => {
      let s = src;
      for (const m of ms) {
        const i = s.length === 0 ? 0 : m.at % s.length;
        const lines = s.split('\n');
        const li = m.at % lines.length;
        const lj = m.other % lines.length;
        switch (m.kind) {
          case 'delete':
            s = s.slice(0, i) + s.slice(i + 1);
            break;
          case 'insert':
            s = s.slice(0, i) + m.ch + s.slice(i);
            break;
          case 'replace':
            s = s.slice(0, i) + m.ch + s.slice(i + 1);
            break;
          case 'dropLine':
            lines.splice(li, 1);
            s = lines.join('\n');
            break;
          case 'dupLine':
            lines.splice(li, 0, lines[li]!);
            s = lines.join('\n');
            break;
          default:
            [lines[li], lines[lj]] = [lines[lj]!, lines[li]!];
            s = lines.join('\n');
        }
      }
      return s;
    };
    fc.assert(
      fc.property(fc.constantFrom(...programs), fc.array(mutation, { minLength: 1, maxLength: 6 }), (src, ms) =>
        assemblesOrAsmError(mutate(src, ms)),
      ),
      { seed: 0xc0ffee, numRuns: 5000 },
    );
  });
});

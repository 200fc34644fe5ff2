/**
 * An assembler for the eBPF assembly dialect of the bpf_conformance suite
 * (the ubpf-style syntax its `.data` files use), producing `Insn` values.
 *
 * Hand-written for this project from the dialect's public description and
 * RFC 9669; no code is taken from ubpf or bpf_conformance.
 *
 * The dialect, one statement per line:
 *   - `# comment` anywhere on a line; blank lines are ignored.
 *   - `name:` alone on a line defines a label at the next instruction's slot.
 *   - Registers are `%r0` … `%r10`.
 *   - Numbers are decimal or `0x` hex with an optional sign. A 32-bit immediate
 *     may be anything from -2^31 to 2^32-1: values above 2^31-1 are stored as
 *     their two's-complement int32 (so `0xffffffff` is -1). `lddw` takes -2^63 to
 *     2^64-1. Offsets (memory and jump) must fit a signed 16-bit field.
 *   - Memory operands: `[%rN]`, `[%rN+off]`, `[%rN-off]`.
 *   - Jump targets: a label, or a relative slot count `+N` / `-N` (a bare number is
 *     accepted too). Label distances are counted in 8-byte slots (`lddw` takes two):
 *     offset = target - (this slot + 1).
 *   - `exit` is an implicit label for the first `exit` instruction, as in the suite
 *     (`jne %r1, %r2, exit`); an explicit `exit:` label wins over it.
 *
 * Mnemonics (each row of MNEMONICS below gives opcode and operand shape):
 *   ALU: add sub mul div sdiv or and lsh rsh mod smod xor mov arsh (64-bit) and the
 *        same with a `32` suffix (ALU class); `%rD, %rS` or `%rD, imm`.
 *        sdiv/smod are DIV/MOD with offset 1 (RFC 9669 §4.1).
 *   neg, neg32 `%rD`.
 *   movsx832 movsx1632 (ALU), movsx864 movsx1664 movsx3264 (ALU64): MOV with
 *        offset 8/16/32, register source only.
 *   le16/32/64 (ALU END, source K), be16/32/64 (ALU END, source X), and the
 *        unconditional byte swaps bswap16/32/64 — with `swap16/32/64` as the suite's
 *        other spelling of the same instruction — (ALU64 END, source K); imm = width.
 *   ldxb ldxh ldxw ldxdw `%rD, [%rS+off]`; ldxsb ldxsh ldxsw (MEMSX mode).
 *   stb sth stw stdw `[%rD+off], imm`; stxb stxh stxw stxdw `[%rD+off], %rS`.
 *   lock [fetch] add|or|and|xor[32], lock xchg[32], lock cmpxchg[32]
 *        `[%rD+off], %rS` (STX ATOMIC, operation in imm; RFC 9669 §5.3).
 *   lddw `%rD, imm64` (two slots).
 *   ja `target` (offset field), ja32 `target` (JMP32 class, target in imm).
 *   jeq jgt jge jlt jle jset jne jsgt jsge jslt jsle and the `32` forms (JMP32):
 *        `%rD, %rS|imm, target`.
 *   call `N` (helper, src 0), call local `target` (src 1, imm = relative slots),
 *   call `%rN` (callx: JMP|CALL|X with the register in dst — RFC 9669 defines CALL
 *        with source K only; dst is where the suite, gcc and LLVM ≥ 19 put it).
 *   exit.
 *
 * Every problem in the source is an `AsmError` naming the line (1-based).
 */
import { AsmError } from '../errors.js';
import { makeInsn, makeLddw, type Insn } from '../isa/insn.js';
import { AluOp, AtomicOp, CallSrc, Class, JmpOp, Mode, REG_COUNT, Size, Src } from '../isa/opcodes.js';

/** How an instruction's operands are written and packed into fields. */
export type Shape =
  | 'alu'
  | 'movsx'
  | 'unary'
  | 'end'
  | 'lddw'
  | 'ldx'
  | 'st'
  | 'stx'
  | 'atomic'
  | 'ja'
  | 'ja32'
  | 'jcond'
  | 'call'
  | 'callLocal'
  | 'exit';

/** One row of the mnemonic table: opcode (source bit clear) plus fixed field values. */
export interface Form {
  readonly shape: Shape;
  readonly code: number;
  readonly off?: number;
  readonly imm?: number;
}

// ---------------------------------------------------------------------------
// The mnemonic table.

function buildTable(): ReadonlyMap<string, Form> {
  const t = new Map<string, Form>();
  const add = (name: string, form: Form) => {
    if (t.has(name)) throw new Error(`assembler table: duplicate mnemonic ${name}`);
    t.set(name, form);
  };
  const widths: ReadonlyArray<readonly [string, number]> = [
    ['', Class.ALU64],
    ['32', Class.ALU],
  ];

  const alu: ReadonlyArray<readonly [string, number, number]> = [
    ['add', AluOp.ADD, 0],
    ['sub', AluOp.SUB, 0],
    ['mul', AluOp.MUL, 0],
    ['div', AluOp.DIV, 0],
    ['sdiv', AluOp.DIV, 1],
    ['or', AluOp.OR, 0],
    ['and', AluOp.AND, 0],
    ['lsh', AluOp.LSH, 0],
    ['rsh', AluOp.RSH, 0],
    ['mod', AluOp.MOD, 0],
    ['smod', AluOp.MOD, 1],
    ['xor', AluOp.XOR, 0],
    ['mov', AluOp.MOV, 0],
    ['arsh', AluOp.ARSH, 0],
  ];
  for (const [name, op, off] of alu) {
    for (const [suffix, cls] of widths) add(name + suffix, { shape: 'alu', code: cls | op, off });
  }
  for (const [suffix, cls] of widths) add('neg' + suffix, { shape: 'unary', code: cls | AluOp.NEG | Src.K });

  add('movsx832', { shape: 'movsx', code: Class.ALU | AluOp.MOV, off: 8 });
  add('movsx1632', { shape: 'movsx', code: Class.ALU | AluOp.MOV, off: 16 });
  add('movsx864', { shape: 'movsx', code: Class.ALU64 | AluOp.MOV, off: 8 });
  add('movsx1664', { shape: 'movsx', code: Class.ALU64 | AluOp.MOV, off: 16 });
  add('movsx3264', { shape: 'movsx', code: Class.ALU64 | AluOp.MOV, off: 32 });

  for (const bits of [16, 32, 64]) {
    add(`le${bits}`, { shape: 'end', code: Class.ALU | AluOp.END | Src.K, imm: bits });
    add(`be${bits}`, { shape: 'end', code: Class.ALU | AluOp.END | Src.X, imm: bits });
    add(`bswap${bits}`, { shape: 'end', code: Class.ALU64 | AluOp.END | Src.K, imm: bits });
    add(`swap${bits}`, { shape: 'end', code: Class.ALU64 | AluOp.END | Src.K, imm: bits });
  }

  const sizes: ReadonlyArray<readonly [string, number]> = [
    ['b', Size.B],
    ['h', Size.H],
    ['w', Size.W],
    ['dw', Size.DW],
  ];
  for (const [s, size] of sizes) {
    add(`ldx${s}`, { shape: 'ldx', code: Class.LDX | Mode.MEM | size });
    add(`st${s}`, { shape: 'st', code: Class.ST | Mode.MEM | size });
    add(`stx${s}`, { shape: 'stx', code: Class.STX | Mode.MEM | size });
    if (size !== Size.DW) add(`ldxs${s}`, { shape: 'ldx', code: Class.LDX | Mode.MEMSX | size });
  }

  const atomicSizes: ReadonlyArray<readonly [string, number]> = [
    ['', Size.DW],
    ['32', Size.W],
  ];
  const atomicAlu: ReadonlyArray<readonly [string, number]> = [
    ['add', AtomicOp.ADD],
    ['or', AtomicOp.OR],
    ['and', AtomicOp.AND],
    ['xor', AtomicOp.XOR],
  ];
  for (const [suffix, size] of atomicSizes) {
    const code = Class.STX | Mode.ATOMIC | size;
    for (const [name, op] of atomicAlu) {
      add(`lock ${name}${suffix}`, { shape: 'atomic', code, imm: op });
      add(`lock fetch ${name}${suffix}`, { shape: 'atomic', code, imm: op | AtomicOp.FETCH });
    }
    // xchg and cmpxchg always fetch; `lock fetch xchg` is accepted as a redundant spelling.
    for (const [name, op] of [
      ['xchg', AtomicOp.XCHG],
      ['cmpxchg', AtomicOp.CMPXCHG],
    ] as const) {
      add(`lock ${name}${suffix}`, { shape: 'atomic', code, imm: op });
      add(`lock fetch ${name}${suffix}`, { shape: 'atomic', code, imm: op });
    }
  }

  add('lddw', { shape: 'lddw', code: Class.LD | Mode.IMM | Size.DW });

  add('ja', { shape: 'ja', code: Class.JMP | JmpOp.JA });
  add('ja32', { shape: 'ja32', code: Class.JMP32 | JmpOp.JA });
  const jumps: ReadonlyArray<readonly [string, number]> = [
    ['jeq', JmpOp.JEQ],
    ['jgt', JmpOp.JGT],
    ['jge', JmpOp.JGE],
    ['jset', JmpOp.JSET],
    ['jne', JmpOp.JNE],
    ['jsgt', JmpOp.JSGT],
    ['jsge', JmpOp.JSGE],
    ['jlt', JmpOp.JLT],
    ['jle', JmpOp.JLE],
    ['jslt', JmpOp.JSLT],
    ['jsle', JmpOp.JSLE],
  ];
  for (const [name, op] of jumps) {
    add(name, { shape: 'jcond', code: Class.JMP | op });
    add(name + '32', { shape: 'jcond', code: Class.JMP32 | op });
  }
  add('call', { shape: 'call', code: Class.JMP | JmpOp.CALL });
  add('call local', { shape: 'callLocal', code: Class.JMP | JmpOp.CALL | Src.K });
  add('exit', { shape: 'exit', code: Class.JMP | JmpOp.EXIT });
  return t;
}

/** Every mnemonic the assembler knows (multi-word ones such as `lock fetch add32` included). */
export const MNEMONICS: ReadonlyMap<string, Form> = buildTable();

/** The longest mnemonic, in words. */
const MAX_MNEMONIC_WORDS = Math.max(...[...MNEMONICS.keys()].map((k) => k.split(' ').length));

// ---------------------------------------------------------------------------
// Operand parsing. Each parser returns a value or throws AsmError for the line.

const INT16_MIN = -0x8000;
const INT16_MAX = 0x7fff;
const LABEL_RE = /^[A-Za-z_.$][\w.$]*$/;
const NUMBER_RE = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))$/;
const MEM_RE = /^\[\s*([^\]+\-\s]+)\s*(?:([+-])\s*([^\]\s]+)\s*)?\]$/;

/** Parse an integer literal; undefined when the text is not one. */
export function parseInteger(text: string): bigint | undefined {
  const m = NUMBER_RE.exec(text);
  if (!m) return undefined;
  const magnitude = m[2] !== undefined ? BigInt('0x' + m[2]) : BigInt(m[3]!);
  return m[1] === '-' ? -magnitude : magnitude;
}

/** Where an instruction is being assembled: used for errors and label fixups. */
interface Site {
  readonly line: number;
  readonly file: string | undefined;
}

const fail = (site: Site, message: string): never => {
  throw new AsmError(message, site.line, site.file);
};

const isRegisterText = (text: string) => text.startsWith('%');

function register(site: Site, text: string, role: string): number {
  const m = /^%r(\d+)$/i.exec(text);
  if (!m) return fail(site, `expected a register %r0..%r10 as ${role}, got '${text}'`);
  const n = Number(m[1]);
  if (n >= REG_COUNT) return fail(site, `register ${text} does not exist (expected %r0..%r10 as ${role})`);
  return n;
}

function integer(site: Site, text: string, role: string): bigint {
  const v = parseInteger(text);
  if (v === undefined) return fail(site, `expected a number (decimal or 0x hex) as ${role}, got '${text}'`);
  return v;
}

/** A 32-bit immediate: signed, or unsigned up to 2^32-1 stored as its two's-complement int32. */
function imm32(site: Site, text: string, role = 'immediate'): number {
  const v = integer(site, text, role);
  if (v < -0x80000000n || v > 0xffffffffn) {
    return fail(site, `${role} ${text} does not fit 32 bits (expected -2^31 .. 2^32-1)`);
  }
  return Number(BigInt.asIntN(32, v));
}

function imm64(site: Site, text: string): bigint {
  const v = integer(site, text, '64-bit immediate');
  if (v < -(1n << 63n) || v >= 1n << 64n) {
    return fail(site, `64-bit immediate ${text} does not fit 64 bits (expected -2^63 .. 2^64-1)`);
  }
  return v;
}

function offset16(site: Site, v: bigint, what: string): number {
  if (v < BigInt(INT16_MIN) || v > BigInt(INT16_MAX)) {
    return fail(site, `${what} ${v} does not fit the signed 16-bit offset field (${INT16_MIN}..${INT16_MAX})`);
  }
  return Number(v);
}

/** `[%rN]`, `[%rN+off]`, `[%rN-off]`. */
function memory(site: Site, text: string): { reg: number; off: number } {
  const m = MEM_RE.exec(text);
  if (!m) return fail(site, `expected a memory operand [%rN], [%rN+off] or [%rN-off], got '${text}'`);
  const reg = register(site, m[1]!, 'memory base');
  if (m[2] === undefined) return { reg, off: 0 };
  const magnitude = integer(site, m[3]!, 'memory offset');
  if (magnitude < 0n || /^[+-]/.test(m[3]!)) {
    return fail(site, `memory offset '${m[3]}' must be an unsigned number after the + or - sign`);
  }
  return { reg, off: offset16(site, m[2] === '-' ? -magnitude : magnitude, 'memory offset') };
}

// ---------------------------------------------------------------------------
// Encoding per shape.

/** A label reference to fill in once every label is known. */
interface Fixup {
  readonly index: number;
  readonly site: Site;
  readonly label: string;
  readonly field: 'off' | 'imm';
}

interface ShapeRule {
  /** How the operands are written, for messages. */
  readonly syntax: string;
  readonly operands: number;
  readonly encode: (form: Form, ops: readonly string[], site: Site, refer: (label: string, field: 'off' | 'imm') => void) => Insn;
}

/** A jump target: a relative slot count (returned), or a label (recorded for later; 0 returned). */
function target(
  site: Site,
  text: string,
  field: 'off' | 'imm',
  refer: (label: string, field: 'off' | 'imm') => void,
): number {
  const v = parseInteger(text);
  if (v !== undefined) {
    if (field === 'off') return offset16(site, v, 'jump offset');
    if (v < -0x80000000n || v > 0x7fffffffn) return fail(site, `jump offset ${v} does not fit 32 bits`);
    return Number(v);
  }
  if (!LABEL_RE.test(text)) return fail(site, `expected a label or a +N/-N slot offset as jump target, got '${text}'`);
  refer(text, field);
  return 0;
}

const SHAPES: Readonly<Record<Shape, ShapeRule>> = {
  alu: {
    syntax: '%rD, %rS|imm',
    operands: 2,
    encode: (f, [d, s], site) => {
      const dst = register(site, d!, 'destination');
      return isRegisterText(s!)
        ? makeInsn(f.code | Src.X, dst, register(site, s!, 'source'), f.off ?? 0, 0)
        : makeInsn(f.code | Src.K, dst, 0, f.off ?? 0, imm32(site, s!));
    },
  },
  movsx: {
    syntax: '%rD, %rS',
    operands: 2,
    encode: (f, [d, s], site) =>
      makeInsn(f.code | Src.X, register(site, d!, 'destination'), register(site, s!, 'source (movsx takes a register)'), f.off ?? 0, 0),
  },
  unary: {
    syntax: '%rD',
    operands: 1,
    encode: (f, [d], site) => makeInsn(f.code, register(site, d!, 'destination')),
  },
  end: {
    syntax: '%rD',
    operands: 1,
    encode: (f, [d], site) => makeInsn(f.code, register(site, d!, 'destination'), 0, 0, f.imm ?? 0),
  },
  lddw: {
    syntax: '%rD, imm64',
    operands: 2,
    encode: (_f, [d, v], site) => makeLddw(register(site, d!, 'destination'), imm64(site, v!)),
  },
  ldx: {
    syntax: '%rD, [%rS+off]',
    operands: 2,
    encode: (f, [d, m], site) => {
      const dst = register(site, d!, 'destination');
      const mem = memory(site, m!);
      return makeInsn(f.code, dst, mem.reg, mem.off, 0);
    },
  },
  st: {
    syntax: '[%rD+off], imm',
    operands: 2,
    encode: (f, [m, v], site) => {
      const mem = memory(site, m!);
      return makeInsn(f.code, mem.reg, 0, mem.off, imm32(site, v!));
    },
  },
  stx: {
    syntax: '[%rD+off], %rS',
    operands: 2,
    encode: (f, [m, s], site) => {
      const mem = memory(site, m!);
      return makeInsn(f.code, mem.reg, register(site, s!, 'source'), mem.off, 0);
    },
  },
  atomic: {
    syntax: '[%rD+off], %rS',
    operands: 2,
    encode: (f, [m, s], site) => {
      const mem = memory(site, m!);
      return makeInsn(f.code, mem.reg, register(site, s!, 'source'), mem.off, f.imm ?? 0);
    },
  },
  ja: {
    syntax: 'target',
    operands: 1,
    encode: (f, [t], site, refer) => makeInsn(f.code, 0, 0, target(site, t!, 'off', refer), 0),
  },
  ja32: {
    syntax: 'target',
    operands: 1,
    encode: (f, [t], site, refer) => makeInsn(f.code, 0, 0, 0, target(site, t!, 'imm', refer)),
  },
  jcond: {
    syntax: '%rD, %rS|imm, target',
    operands: 3,
    encode: (f, [d, s, t], site, refer) => {
      const dst = register(site, d!, 'destination');
      const regSrc = isRegisterText(s!);
      const src = regSrc ? register(site, s!, 'source') : 0;
      const imm = regSrc ? 0 : imm32(site, s!);
      const off = target(site, t!, 'off', refer);
      return makeInsn(f.code | (regSrc ? Src.X : Src.K), dst, src, off, imm);
    },
  },
  call: {
    syntax: 'helper-id | %rN',
    operands: 1,
    encode: (f, [t], site) =>
      isRegisterText(t!)
        ? makeInsn(f.code | Src.X, register(site, t!, 'call target'), 0, 0, 0)
        : makeInsn(f.code | Src.K, 0, CallSrc.HELPER, 0, imm32(site, t!, 'helper id')),
  },
  callLocal: {
    syntax: 'target',
    operands: 1,
    encode: (f, [t], site, refer) => makeInsn(f.code, 0, CallSrc.LOCAL, 0, target(site, t!, 'imm', refer)),
  },
  exit: {
    syntax: '(no operands)',
    operands: 0,
    encode: (f) => makeInsn(f.code),
  },
};

// ---------------------------------------------------------------------------
// Lines and statements.

/** Split off the mnemonic (possibly several words) and return it with the operand text. */
function splitMnemonic(stmt: string, site: Site): { name: string; form: Form; rest: string } {
  const words = stmt.split(/\s+/);
  for (let k = Math.min(MAX_MNEMONIC_WORDS, words.length); k >= 1; k--) {
    const name = words.slice(0, k).join(' ').toLowerCase();
    const form = MNEMONICS.get(name);
    if (!form) continue;
    let rest = stmt;
    for (let i = 0; i < k; i++) rest = rest.replace(/^\s*\S+/, '');
    return { name, form, rest: rest.trim() };
  }
  const first = words[0]!.toLowerCase();
  if (first === 'lock') {
    return fail(
      site,
      `unknown atomic operation '${words.slice(0, 3).join(' ')}' (expected lock [fetch] add|or|and|xor[32], lock xchg[32] or lock cmpxchg[32])`,
    );
  }
  if (first.endsWith(':')) {
    return fail(site, `'${first}' is not a valid label definition (a label is a name followed by ':' on a line of its own)`);
  }
  return fail(site, `unknown mnemonic '${words[0]}'`);
}

function splitOperands(rest: string, name: string, rule: ShapeRule, site: Site): string[] {
  const ops = rest === '' ? [] : rest.split(',').map((s) => s.trim());
  const shown = `${name} ${rule.syntax}`;
  ops.forEach((op, i) => {
    if (op === '') fail(site, `operand ${i + 1} of '${name}' is missing (expected ${shown})`);
  });
  if (ops.length !== rule.operands) {
    fail(site, `'${name}' takes ${rule.operands} operand${rule.operands === 1 ? '' : 's'} (${shown}), got ${ops.length}`);
  }
  return ops;
}

/**
 * Assemble `source` to instructions. `file` is used in error messages; `firstLine`
 * is the line number of the source's first line inside that file (for sources cut
 * out of a larger file, like the `-- asm` section of a conformance test).
 */
export function assemble(source: string, file?: string, firstLine = 1): Insn[] {
  const insns: Insn[] = [];
  const slots: number[] = [];
  const labels = new Map<string, { slot: number; line: number }>();
  const fixups: Fixup[] = [];
  let slot = 0;
  let firstExit: number | undefined;

  const lines = source.split(/\r?\n|\r/);
  lines.forEach((raw, i) => {
    const site: Site = { line: firstLine + i, file };
    const hash = raw.indexOf('#');
    const stmt = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (stmt === '') return;

    if (stmt.endsWith(':') && !/\s/.test(stmt)) {
      const name = stmt.slice(0, -1);
      if (!LABEL_RE.test(name)) {
        fail(site, `'${name}' is not a valid label name (letters, digits, '_', '.', '$'; not starting with a digit)`);
      }
      const previous = labels.get(name);
      if (previous) fail(site, `label '${name}' is already defined on line ${previous.line}`);
      labels.set(name, { slot, line: site.line });
      return;
    }

    const { name, form, rest } = splitMnemonic(stmt, site);
    const rule = SHAPES[form.shape];
    const ops = splitOperands(rest, name, rule, site);
    const index = insns.length;
    const insn = rule.encode(form, ops, site, (label, field) => fixups.push({ index, site, label, field }));
    if (form.shape === 'exit' && firstExit === undefined) firstExit = slot;
    insns.push(insn);
    slots.push(slot);
    slot += insn.next ? 2 : 1;
  });

  for (const fx of fixups) {
    const at = labels.get(fx.label)?.slot ?? (fx.label === 'exit' ? firstExit : undefined);
    if (at === undefined) {
      fail(fx.site, `undefined label '${fx.label}'${fx.label === 'exit' ? ' (and no exit instruction to stand for it)' : ''}`);
    }
    const delta = at! - (slots[fx.index]! + 1);
    const insn = insns[fx.index]!;
    if (fx.field === 'off') {
      if (delta < INT16_MIN || delta > INT16_MAX) {
        fail(fx.site, `jump to '${fx.label}' is out of range: ${delta} slots does not fit the signed 16-bit offset (${INT16_MIN}..${INT16_MAX}; use ja32 for longer jumps)`);
      }
      insns[fx.index] = { ...insn, off: delta };
    } else {
      insns[fx.index] = { ...insn, imm: delta };
    }
  }
  return insns;
}

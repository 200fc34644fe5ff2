/**
 * Reader for the bpf_conformance suite's `.data` test files, as plain data.
 *
 * A file is `#` comment lines (the licence header, notes) followed by sections,
 * each introduced by a line `-- NAME`:
 *   - `-- asm`     the program in the suite's assembly dialect (see assembler.ts);
 *   - `-- raw`     the whole program as 64-bit instruction words, one per line, hex
 *                  (`0x…`) or decimal: bits 0-7 opcode, 8-11 dst, 12-15 src,
 *                  16-31 offset, 32-63 imm — i.e. the slot read as a little-endian u64;
 *   - `-- mem`     the input memory as hex bytes separated by white space;
 *   - `-- result`  the expected r0 (hex or decimal, optionally signed), kept as the
 *                  unsigned 64-bit register value;
 *   - `-- error`   the expected error text;
 *   - `-- c`       the C source the program came from (documentation only);
 *   - flag sections (`-- no register offset`) that mark a test for runners; their
 *     body, if any, is a free-text note the suite's own runner ignores.
 * Hand-written for this project; the format was learnt from the suite's files.
 */
import { AsmError } from '../errors.js';
import { decode, type Insn } from '../isa/insn.js';
import { assemble, parseInteger } from './assembler.js';

export interface ConformanceCase {
  /** The file name as given to the parser. */
  file: string;
  asm?: string;
  /** Line number (1-based, in the file) of the first line of `asm`. */
  asmLine?: number;
  raw?: bigint[];
  mem?: Uint8Array;
  result?: bigint;
  error?: string;
  c?: string;
  /** Flag sections present, by name, e.g. `'no register offset'`. */
  options: string[];
}

/** Flag sections the suite uses. */
export const CONFORMANCE_OPTIONS: readonly string[] = ['no register offset'];

type SectionName = 'asm' | 'raw' | 'mem' | 'result' | 'error' | 'c';
const SECTIONS: readonly SectionName[] = ['asm', 'raw', 'mem', 'result', 'error', 'c'];

interface Section {
  name: string;
  /** Line number of the first body line. */
  firstLine: number;
  lines: string[];
}

const HEADER_RE = /^--\s+(.*?)\s*$/;

/** Body lines without comments and blank lines, each with its line number. */
function dataLines(s: Section): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  s.lines.forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const text = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (text !== '') out.push({ text, line: s.firstLine + i });
  });
  return out;
}

/** Lines joined, with leading and trailing blank lines dropped. */
function verbatim(s: Section): string {
  const lines = [...s.lines];
  while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines.join('\n');
}

function parseMem(s: Section, file: string): Uint8Array {
  const bytes: number[] = [];
  for (const { text, line } of dataLines(s)) {
    for (const token of text.split(/\s+/)) {
      if (!/^[0-9a-fA-F]{1,2}$/.test(token)) {
        throw new AsmError(`-- mem: expected hex bytes (00..ff), got '${token}'`, line, file);
      }
      bytes.push(parseInt(token, 16));
    }
  }
  return Uint8Array.from(bytes);
}

function parseRaw(s: Section, file: string): bigint[] {
  const words: bigint[] = [];
  for (const { text, line } of dataLines(s)) {
    for (const token of text.split(/\s+/)) {
      const v = parseInteger(token);
      if (v === undefined || v < 0n || v >= 1n << 64n) {
        throw new AsmError(`-- raw: expected a 64-bit instruction word (0x… or decimal), got '${token}'`, line, file);
      }
      words.push(v);
    }
  }
  return words;
}

function parseResult(s: Section, file: string): bigint {
  const lines = dataLines(s);
  const tokens = lines.flatMap(({ text, line }) => text.split(/\s+/).map((t) => ({ t, line })));
  if (tokens.length !== 1) {
    throw new AsmError(
      `-- result: expected one number, got ${tokens.length === 0 ? 'nothing' : tokens.length + ' tokens'}`,
      tokens[1]?.line ?? s.firstLine,
      file,
    );
  }
  const { t, line } = tokens[0]!;
  const v = parseInteger(t);
  if (v === undefined || v < -(1n << 63n) || v >= 1n << 64n) {
    throw new AsmError(`-- result: expected a 64-bit number (0x… or decimal), got '${t}'`, line, file);
  }
  return BigInt.asUintN(64, v);
}

/** Parse one `.data` file. Malformed content is an AsmError naming the file line. */
export function parseConformanceFile(text: string, file: string): ConformanceCase {
  const sections: Section[] = [];
  const lines = text.split(/\r?\n/);
  let current: Section | undefined;
  lines.forEach((raw, i) => {
    const line = i + 1;
    const header = HEADER_RE.exec(raw);
    if (header) {
      const name = header[1]!;
      if (!(SECTIONS as readonly string[]).includes(name) && !CONFORMANCE_OPTIONS.includes(name)) {
        throw new AsmError(
          `unknown section '-- ${name}' (expected ${[...SECTIONS, ...CONFORMANCE_OPTIONS].map((n) => `-- ${n}`).join(', ')})`,
          line,
          file,
        );
      }
      const previous = sections.find((s) => s.name === name);
      if (previous) {
        throw new AsmError(`section '-- ${name}' appears twice (first on line ${previous.firstLine - 1})`, line, file);
      }
      current = { name, firstLine: line + 1, lines: [] };
      sections.push(current);
      return;
    }
    if (current) {
      current.lines.push(raw);
    } else if (raw.trim() !== '' && !raw.trimStart().startsWith('#')) {
      throw new AsmError(`text before the first '-- section' line must be a # comment, got '${raw.trim()}'`, line, file);
    }
  });

  const out: ConformanceCase = { file, options: [] };
  for (const s of sections) {
    switch (s.name as SectionName) {
      case 'asm':
        out.asm = s.lines.join('\n');
        out.asmLine = s.firstLine;
        break;
      case 'raw':
        out.raw = parseRaw(s, file);
        break;
      case 'mem':
        out.mem = parseMem(s, file);
        break;
      case 'result':
        out.result = parseResult(s, file);
        break;
      case 'error':
        out.error = verbatim(s);
        break;
      case 'c':
        out.c = verbatim(s);
        break;
      default:
        out.options.push(s.name);
    }
  }
  return out;
}

/** Pack 64-bit instruction words into their little-endian byte stream. */
export function wordsToBytes(words: readonly bigint[]): Uint8Array {
  const bytes = new Uint8Array(words.length * 8);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setBigUint64(i * 8, BigInt.asUintN(64, w), true));
  return bytes;
}

/** Read a little-endian byte stream as 64-bit instruction words. */
export function bytesToWords(bytes: Uint8Array): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words: bigint[] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8) words.push(view.getBigUint64(at, true));
  return words;
}

/**
 * The program a test runs: its `-- raw` words when present (as the suite's runner
 * does), else its assembled `-- asm`. Assembly errors name the line in the file.
 */
export function conformanceProgram(c: ConformanceCase): Insn[] {
  if (c.raw !== undefined) return decode(wordsToBytes(c.raw), { file: c.file, section: 'raw' });
  if (c.asm !== undefined) return assemble(c.asm, c.file, c.asmLine ?? 1);
  throw new AsmError('the test has neither an -- asm nor a -- raw section', 1, c.file);
}

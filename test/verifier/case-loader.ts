/**
 * The verifier's test corpus: small XDP programs in assembly, each with the
 * verdict the running kernel gave it (see docs/verifier-cases.md). One JSON file
 * per group in test/verifier/cases/; `loadCases()` reads them all and
 * `caseObject()` turns a case into the object and program the kernel oracle and
 * our verifier both take.
 *
 * Beyond the assembler's dialect (xdp/asm/assembler.ts), a case's asm may use:
 *   ld_map %rX, M                 lddw %rX with src BPF_PSEUDO_MAP_IDX (5), imm = map M
 *                                 (M = index into the case's `maps`, or a map name)
 *   ld_map_value %rX, M, OFF      lddw %rX with src BPF_PSEUDO_MAP_IDX_VALUE (6): address of
 *                                 byte OFF of map M's value (ARRAY maps)
 *   raw CODE DST SRC OFF IMM      one instruction slot given field by field (numbers, 0x hex),
 *                                 for what the assembler will not write (unknown opcodes,
 *                                 reserved fields, registers above r10)
 *   raw2 C D S O I ; C D S O I    two slots as one wide instruction (an lddw with odd fields)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../../xdp/asm/assembler.js';
import { makeLddw, type Insn, type Slot } from '../../xdp/isa/insn.js';
import { LddwSrc } from '../../xdp/isa/opcodes.js';
import { MapType } from '../../xdp/maps/map-types.js';
import type { BpfObject, MapDef, Program } from '../../xdp/object/bpf-object.js';
import { sectionType } from '../../xdp/object/section-types.js';
import { programFromInsns } from '../../xdp/runtime/raw-program.js';

/** The groups, in the order the kernel's selftests (tools/testing/selftests/bpf/verifier/) would list them. */
export const GROUPS = [
  'context', 'packet', 'stack', 'map-value', 'null-check', 'scalar-bounds', 'loops', 'pruning', 'calls', 'atomics', 'helpers',
  'control-flow', 'instructions',
] as const;
export type CaseGroup = (typeof GROUPS)[number];

export interface CaseMap {
  readonly name: string;
  /** Map type: a name of enum bpf_map_type without BPF_MAP_TYPE_ ("ARRAY", "HASH", "DEVMAP", ...) or its number. */
  readonly type: string | number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  /** Inner map template of an ARRAY_OF_MAPS / HASH_OF_MAPS. */
  readonly inner?: Omit<CaseMap, 'name' | 'inner'>;
}

export type CaseExpect = 'accept' | { readonly reject: { readonly insn: number; readonly message: string } };

export interface VerifierCase {
  readonly name: string;
  readonly group: CaseGroup;
  /** The program in the assembler's dialect plus the directives above (lines joined with '\n'). */
  readonly asm: string;
  readonly maps: readonly CaseMap[];
  /**
   * The kernel's verdict: accepted, or refused blaming instruction `insn` (slot index: the last
   * instruction the log prints before the error, or the one a pre-walk error names) with a log
   * line containing `message`.
   */
  readonly expect: CaseExpect;
  /** Loaded with the verifier's privileges (root: CAP_SYS_ADMIN/CAP_PERFMON), default true. */
  readonly privileged: boolean;
  /** The rule the case exercises, and why the kernel says what it says. */
  readonly why: string;
  /** The program's licence (default "GPL"); GPL-only helpers need a GPL-compatible one. */
  readonly license: string;
  /** ELF section the program is said to come from (default "xdp"): sets the expected attach type ("xdp/devmap"...). */
  readonly section: string;
  /** Case file it came from (relative to the repository). */
  readonly file: string;
}

/** The JSON form of a case (what a cases/<group>.json array holds). */
interface CaseJson {
  name: string;
  group?: string;
  asm: string | string[];
  maps?: CaseMap[];
  expect: CaseExpect;
  privileged?: boolean;
  why: string;
  license?: string;
  section?: string;
}

function findRepo(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'test', 'verifier', 'cases')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find test/verifier/cases above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** test/verifier/cases of the checkout this module (or its compiled copy under dist/) belongs to. */
export function casesDir(): string {
  return join(findRepo(), 'test', 'verifier', 'cases');
}

class CaseError extends Error {
  constructor(where: string, what: string) {
    super(`${where}: ${what}`);
  }
}

function checkExpect(where: string, e: unknown): CaseExpect {
  if (e === 'accept') return e;
  const r = (e as { reject?: { insn?: unknown; message?: unknown } } | undefined)?.reject;
  if (!r || typeof r.insn !== 'number' || !Number.isInteger(r.insn) || typeof r.message !== 'string' || r.message === '') {
    throw new CaseError(where, 'expect must be "accept" or { "reject": { "insn": <integer>, "message": "<non-empty>" } }');
  }
  return { reject: { insn: r.insn, message: r.message } };
}

/** Every case of every group file, in file order; names are unique across the corpus. */
export function loadCases(dir: string = casesDir()): VerifierCase[] {
  const out: VerifierCase[] = [];
  const names = new Set<string>();
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort(
    (a, b) => GROUPS.indexOf(a.replace(/\.json$/, '') as CaseGroup) - GROUPS.indexOf(b.replace(/\.json$/, '') as CaseGroup),
  );
  for (const f of files) {
    const group = f.replace(/\.json$/, '') as CaseGroup;
    const file = `test/verifier/cases/${f}`;
    if (!GROUPS.includes(group)) throw new CaseError(file, `unknown group '${group}' (groups: ${GROUPS.join(', ')})`);
    const list = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CaseJson[];
    if (!Array.isArray(list)) throw new CaseError(file, 'a case file holds a JSON array of cases');
    list.forEach((c, i) => {
      const where = `${file}[${i}] '${c.name}'`;
      if (typeof c.name !== 'string' || c.name === '') throw new CaseError(`${file}[${i}]`, 'a case needs a name');
      if (names.has(c.name)) throw new CaseError(where, 'duplicate case name');
      names.add(c.name);
      if (c.group !== undefined && c.group !== group) throw new CaseError(where, `group '${c.group}' differs from its file's`);
      if (typeof c.why !== 'string' || c.why === '') throw new CaseError(where, 'a case needs a why');
      const asm = Array.isArray(c.asm) ? c.asm.join('\n') : c.asm;
      if (typeof asm !== 'string') throw new CaseError(where, 'asm must be a string or an array of lines');
      out.push({
        name: c.name, group, asm, maps: c.maps ?? [], expect: checkExpect(where, c.expect), privileged: c.privileged ?? true,
        why: c.why, license: c.license ?? 'GPL', section: c.section ?? 'xdp', file,
      });
    });
  }
  return out;
}

// ---------------------------------------------------------------- building the object

const MARK = 0x5eed0000;
const MARK_WIDE = 0x5eed5eed00000000n;

function num(where: string, text: string): number {
  const t = text.trim();
  const v = /^-?0x[0-9a-f]+$/i.test(t) ? (t.startsWith('-') ? -parseInt(t.slice(1), 16) : parseInt(t, 16)) : /^-?\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(v)) throw new CaseError(where, `'${t}' is not a number`);
  return v;
}

function rawSlot(where: string, text: string): Slot {
  const f = text.trim().split(/[\s,]+/);
  if (f.length !== 5) throw new CaseError(where, `raw wants CODE DST SRC OFF IMM, got '${text.trim()}'`);
  const [code, dst, src, off, imm] = f.map((x) => num(where, x)) as [number, number, number, number, number];
  return { code, dst, src, off, imm: imm > 0x7fffffff ? imm - 0x100000000 : imm };
}

function mapDefs(c: Pick<VerifierCase, 'name' | 'maps'>): MapDef[] {
  const type = (t: string | number): number => {
    const n = typeof t === 'number' ? t : MapType[t.toUpperCase()];
    if (n === undefined) throw new CaseError(c.name, `unknown map type '${t}'`);
    return n;
  };
  return c.maps.map((m, index) => ({
    index, name: m.name, type: type(m.type), keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries,
    flags: m.flags ?? 0, pinning: 0, origin: 'btf', section: '.maps',
    ...(m.inner ? { inner: { name: `${m.name}.inner`, type: type(m.inner.type), keySize: m.inner.keySize, valueSize: m.inner.valueSize,
      maxEntries: m.inner.maxEntries, flags: m.inner.flags ?? 0, pinning: 0 } } : {}),
  }));
}

/** Assemble a case's text (with the directives above) into instructions. */
export function assembleCase(c: Pick<VerifierCase, 'name' | 'asm' | 'maps'>): Insn[] {
  const replacements = new Map<number, Insn>();
  const mapIndex = (where: string, m: string): number => {
    const t = m.trim();
    const i = /^\d+$/.test(t) ? Number(t) : c.maps.findIndex((x) => x.name === t);
    if (i < 0 || i >= c.maps.length) throw new CaseError(where, `no map '${t}' (the case has ${c.maps.length})`);
    return i;
  };
  let k = 0;
  const lines = c.asm.split('\n').map((line, n) => {
    const where = `case '${c.name}' line ${n + 1}`;
    const body = line.replace(/#.*$/, '').trim();
    let m: RegExpExecArray | null;
    if ((m = /^ld_map\s+%r(\d+)\s*,\s*(\S+)$/.exec(body))) {
      replacements.set(k, makeLddw(Number(m[1]), BigInt(mapIndex(where, m[2]!)), LddwSrc.MAP_IDX));
      return `lddw %r0, ${MARK_WIDE + BigInt(k++)}`;
    }
    if ((m = /^ld_map_value\s+%r(\d+)\s*,\s*(\S+)\s*,\s*(\S+)$/.exec(body))) {
      const idx = mapIndex(where, m[2]!);
      const off = num(where, m[3]!);
      const insn = makeLddw(Number(m[1]), BigInt(idx), LddwSrc.MAP_IDX_VALUE);
      replacements.set(k, { ...insn, next: { ...insn.next!, imm: off } });
      return `lddw %r0, ${MARK_WIDE + BigInt(k++)}`;
    }
    if ((m = /^raw2\s+(.*);(.*)$/.exec(body))) {
      replacements.set(k, { ...rawSlot(where, m[1]!), next: rawSlot(where, m[2]!) });
      return `lddw %r0, ${MARK_WIDE + BigInt(k++)}`;
    }
    if ((m = /^raw\s+(.*)$/.exec(body))) {
      replacements.set(k, rawSlot(where, m[1]!));
      return `mov %r0, ${MARK + k++}`;
    }
    return line;
  });
  const insns = assemble(lines.join('\n'));
  return insns.map((insn) => {
    if (insn.next && insn.dst === 0 && insn.src === 0) {
      const v = (BigInt(insn.next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
      const r = replacements.get(Number(v - MARK_WIDE));
      if (v >= MARK_WIDE && v < MARK_WIDE + BigInt(k) && r) return r;
    }
    if (!insn.next && insn.code === 0xb7 && insn.dst === 0 && insn.imm >= MARK && insn.imm < MARK + k) {
      const r = replacements.get(insn.imm - MARK);
      if (r && !r.next) return r;
    }
    return insn;
  });
}

/** The object (maps, licence, one XDP program) and program a case stands for. */
export function caseObject(
  c: Pick<VerifierCase, 'name' | 'asm' | 'maps'> & { license?: string; section?: string },
): { object: BpfObject; program: Program } {
  const raw = programFromInsns(c.name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 15) || 'case', assembleCase(c));
  const section = c.section ?? 'xdp';
  const type = sectionType(section);
  if (!type || type.progType !== 'XDP') throw new CaseError(`case '${c.name}'`, `section '${section}' is not an XDP section`);
  const program: Program = { ...raw, section, type, sectionOffset: 0 };
  const object: BpfObject = {
    file: `case:${c.name}`, littleEndian: true, license: c.license ?? 'GPL', programs: [program], foreign: [], maps: mapDefs(c),
    hasBtf: false, hasLineInfo: false,
  };
  return { object, program };
}

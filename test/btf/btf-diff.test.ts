/**
 * Differential tests against the real toolchain: the raw dump equals
 * `bpftool btf dump file X format raw` line for line; .BTF.ext line_info agrees
 * with the DWARF lines llvm-objdump prints and with the source text; func_info
 * agrees with the symbol table.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  formatBtfRaw,
  formatDecl,
  formatFuncSignature,
  formatType,
  memberByName,
  parseBtf,
  findVar,
  parseBtfExt,
  readBtfMaps,
  type Btf,
  type BtfExt,
  type BtfLineInfo,
} from '../../xdp/btf/index.js';
import { CORE, FLOWS, MAPS, PROGRAMS } from './programs.js';
import { bpftoolRaw, cleanupScratch, compile, loadObject, TOOLS, type CompiledProgram } from './tools.js';
import { objdumpFuncSymbols, objdumpInsnLines } from './objdump.js';

afterAll(cleanupScratch);

if (!TOOLS.clang) console.log('btf-diff: skipping compiled-program tests: clang not found');
if (!TOOLS.bpftool) console.log('btf-diff: skipping bpftool comparisons: bpftool not found');
if (!TOOLS.objdump) console.log('btf-diff: skipping llvm-objdump comparisons: llvm-objdump not found');

const compiled = new Map<string, CompiledProgram>();
function program(name: string, target: 'bpfel' | 'bpfeb' = 'bpfel'): CompiledProgram {
  const key = `${name}.${target}`;
  let c = compiled.get(key);
  if (!c) {
    const prog = PROGRAMS.find((p) => p.name === name)!;
    c = compile(prog, target);
    compiled.set(key, c);
  }
  return c;
}

function btfOf(c: CompiledProgram): Btf {
  const bytes = c.sections.get('.BTF');
  if (!bytes) throw new Error(`${c.objectPath} has no .BTF`);
  return parseBtf(bytes, { file: c.objectPath, littleEndian: c.littleEndian });
}

function extOf(c: CompiledProgram, btf: Btf): BtfExt {
  const bytes = c.sections.get('.BTF.ext');
  if (!bytes) throw new Error(`${c.objectPath} has no .BTF.ext`);
  return parseBtfExt(bytes, btf, { file: c.objectPath });
}

function expectSameLines(mine: string, theirs: string): void {
  expect(mine.split('\n')).toEqual(theirs.split('\n'));
}

describe.skipIf(!TOOLS.clang || !TOOLS.bpftool)('raw dump equals bpftool btf dump format raw', () => {
  for (const prog of PROGRAMS) {
    for (const target of ['bpfel', 'bpfeb'] as const) {
      it(`${prog.name} (${target})`, () => {
        const c = program(prog.name, target);
        const btf = btfOf(c);
        expect(btf.littleEndian).toBe(target === 'bpfel');
        expect(btf.types.length).toBeGreaterThan(20);
        expectSameLines(formatBtfRaw(btf), bpftoolRaw(c.objectPath));
      });
    }
  }

  it('fixtures/obj/*.o (committed)', () => {
    const dir = join(process.cwd(), 'fixtures', 'obj');
    const objects = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.o')) : [];
    expect(objects.length, `no fixtures/obj/*.o in ${dir}`).toBeGreaterThan(0);
    let compared = 0;
    for (const f of objects) {
      const c = loadObject(join(dir, f));
      if (!c.sections.has('.BTF')) continue;
      const btf = btfOf(c);
      expectSameLines(formatBtfRaw(btf), bpftoolRaw(c.objectPath));
      // Every BTF-defined map of the fixtures has a definition libbpf would accept.
      for (const m of readBtfMaps(btf)) expect(m.def.type, `${f}: map ${m.name}`).toBeDefined();
      if (c.sections.has('.BTF.ext')) {
        const ext = extOf(c, btf);
        if (TOOLS.objdump) expectLineInfoMatchesDwarf(c, ext);
      }
      compared++;
    }
    console.log(`btf-diff: compared ${compared} of ${objects.length} fixture objects with bpftool${TOOLS.objdump ? ' and llvm-objdump' : ''}`);
  });
});

describe.skipIf(!TOOLS.clang)('byte order', () => {
  for (const prog of PROGRAMS) {
    it(`${prog.name}: big- and little-endian objects parse to the same model`, () => {
      const le = program(prog.name, 'bpfel');
      const be = program(prog.name, 'bpfeb');
      const btfLe = btfOf(le);
      const btfBe = btfOf(be);
      expect(btfBe.types).toEqual(btfLe.types);
      const extLe = extOf(le, btfLe);
      const extBe = extOf(be, btfBe);
      expect([...extBe.funcInfo]).toEqual([...extLe.funcInfo]);
      expect([...extBe.coreRelo]).toEqual([...extLe.coreRelo]);
      // The big-endian build may schedule code differently; compare lines only.
      const lines = (e: BtfExt) => [...e.lineInfo].map(([s, l]) => [s, new Set(l.map((r) => r.line))]);
      expect(lines(extBe)).toEqual(lines(extLe));
    });
  }
});

/** Index of the record covering byte offset `off` (records sorted by insnOff). */
function coveringRecord(records: readonly BtfLineInfo[], off: number): BtfLineInfo | undefined {
  let found: BtfLineInfo | undefined;
  for (const r of records) {
    if (r.insnOff <= off) found = r;
    else break;
  }
  return found;
}

/**
 * Each instruction llvm-objdump -l places on a source line (from DWARF) gets
 * the same line from the line_info record covering it, and the set of lines
 * agrees. Records with column 0 are clang's function-entry records (the
 * DISubprogram line, where DWARF gives the scope line) and line 0 means "no
 * line": neither has a DWARF counterpart, so instructions under them are skipped.
 */
function expectLineInfoMatchesDwarf(c: CompiledProgram, ext: BtfExt): void {
  const dwarf = objdumpInsnLines(c.objectPath);
  // Over the whole object (a section of one tiny function is mostly its entry record's).
  let compared = 0;
  let skipped = 0;
  expect([...ext.lineInfo.keys()].sort()).toEqual([...dwarf.keys()].filter((s) => dwarf.get(s)!.size > 0).sort());
  for (const [section, records] of ext.lineInfo) {
    const insnLines = dwarf.get(section)!;
    expect(records.map((r) => r.insnOff)).toEqual([...records.map((r) => r.insnOff)].sort((a, b) => a - b));
    const btfLines = new Set<number>();
    const dwarfLines = new Set<number>();
    for (const [insn, line] of insnLines) {
      const rec = coveringRecord(records, insn * 8);
      if (!rec || rec.line === 0 || rec.col === 0) {
        skipped++;
        continue;
      }
      expect({ file: c.objectPath, section, insn, line: rec.line }).toEqual({ file: c.objectPath, section, insn, line });
      btfLines.add(rec.line);
      dwarfLines.add(line);
      compared++;
    }
    for (const r of records) if (r.line !== 0 && r.col !== 0) expect(dwarfLines).toContain(r.line);
    expect(btfLines).toEqual(dwarfLines);
  }
  expect(compared, c.objectPath).toBeGreaterThan(skipped);
}

describe.skipIf(!TOOLS.clang || !TOOLS.objdump)('.BTF.ext agrees with llvm-objdump and the source', () => {
  for (const prog of PROGRAMS) {
    it(`${prog.name}: line_info gives each instruction the line DWARF gives it`, () => {
      const c = program(prog.name);
      expectLineInfoMatchesDwarf(c, extOf(c, btfOf(c)));
    });

    it(`${prog.name}: line_info names the source file and carries the source line text`, () => {
      const c = program(prog.name);
      const ext = extOf(c, btfOf(c));
      const src = readFileSync(c.sourcePath, 'utf8').split('\n');
      let withText = 0;
      for (const records of ext.lineInfo.values()) {
        for (const r of records) {
          expect(r.file).toBe(c.sourcePath);
          if (r.line === 0) continue;
          expect(r.source).toBe(src[r.line - 1]);
          expect(r.col).toBeLessThanOrEqual(src[r.line - 1]!.length + 1);
          withText++;
        }
      }
      expect(withText).toBeGreaterThan(5);
    });

    it(`${prog.name}: func_info lists exactly the function symbols`, () => {
      const c = program(prog.name);
      const btf = btfOf(c);
      const ext = extOf(c, btf);
      const fromBtf = [...ext.funcInfo].flatMap(([section, infos]) => infos.map((f) => `${section}:${f.insnOff}:${f.name}`));
      const fromSyms = objdumpFuncSymbols(c.objectPath).map((s) => `${s.section}:${s.offset}:${s.name}`);
      expect(fromBtf.sort()).toEqual(fromSyms.sort());
      for (const infos of ext.funcInfo.values()) {
        for (const f of infos) expect(btf.types[f.typeId]).toMatchObject({ kind: 'FUNC', name: f.name });
      }
    });
  }
});

describe.skipIf(!TOOLS.clang)('C rendering and lookups on compiled programs', () => {
  it('flows: members, arrays, map attributes, functions, variables', () => {
    const btf = btfOf(program(FLOWS.name));
    const stats = btf.types.find((t) => t.kind === 'STRUCT' && t.name === 'flow_stats')!;
    const member = (name: string) => memberByName(btf, stats.id, name)!.member;
    expect(formatType(btf, stats.id)).toBe('struct flow_stats');
    expect(formatType(btf, member('label').type)).toBe('char[16]');
    expect(formatType(btf, member('hist').type)).toBe('__u32[2][4]');
    expect(formatDecl(btf, member('hist').type, 'hist')).toBe('__u32 hist[2][4]');
    expect(formatType(btf, member('peer').type)).toBe('union addr');
    expect(formatType(btf, member('cls').type)).toBe('enum proto_class');
    expect(formatType(btf, member('packets').type)).toBe('__u64');

    const key = btf.types.find((t) => t.kind === 'STRUCT' && t.name === 'flow_key')!;
    expect(memberByName(btf, key.id, 'tos')!.member).toMatchObject({ bitOffset: 104, bitfieldSize: 6 });
    expect(memberByName(btf, key.id, 'ecn')!.member).toMatchObject({ bitOffset: 110, bitfieldSize: 2 });
    expect(formatType(btf, memberByName(btf, key.id, 'saddr')!.member.type)).toBe('be32');
    expect(memberByName(btf, key.id, 'nope')).toBeUndefined();

    const flows = findVar(btf, 'flows', '.maps')!;
    const typeMember = memberByName(btf, flows.var.type, 'type')!.member;
    expect(formatType(btf, typeMember.type)).toBe('int (*)[1]');
    expect(formatDecl(btf, typeMember.type, 'type')).toBe('int (*type)[1]');

    const fn = (name: string) => btf.types.find((t) => t.kind === 'FUNC' && t.name === name)!.id;
    expect(formatFuncSignature(btf, fn('xdp_flows'))).toBe('int xdp_flows(struct xdp_md * ctx)');
    expect(formatFuncSignature(btf, fn('classify'))).toBe('int classify(struct xdp_md * ctx, __u8 proto)');
    expect(formatType(btf, findVar(btf, 'sample_rate')!.var.id)).toBe('const volatile __u32 sample_rate');
    expect(formatType(btf, findVar(btf, 'greeting')!.var.type)).toBe('const char[8]');
    expect(findVar(btf, 'dropped')!.datasec!.name).toBe('.bss');
    expect(findVar(btf, 'seen_packets')!.datasec!.name).toBe('.data');
    expect(findVar(btf, 'sample_rate')!.datasec!.name).toBe('.rodata');
    expect(findVar(btf, 'flows', '.data')).toBeUndefined();
  });

  it('core: function pointers, qualifiers, tags, anonymous members', () => {
    const btf = btfOf(program(CORE.name));
    const meta = btf.types.find((t) => t.kind === 'STRUCT' && t.name === 'pkt_meta')!;
    const m = (name: string) => memberByName(btf, meta.id, name)!.member.type;
    expect(formatType(btf, m('hook'))).toBe('int (*)(struct pkt_meta *, int)');
    expect(formatDecl(btf, m('hook'), 'hook')).toBe('int (*hook)(struct pkt_meta *, int)');
    expect(formatType(btf, m('counter'))).toBe('const volatile __u64 * restrict');
    expect(formatType(btf, m('weight'))).toBe('float');
    expect(formatType(btf, m('uptr'))).toBe('__attribute__((btf_type_tag("user"))) int *');
    expect(formatType(btf, m('next'))).toBe('struct pkt_meta *');
    const holder = btf.types.find((t) => t.kind === 'STRUCT' && t.name === 'holder')!;
    expect(memberByName(btf, holder.id, 'bytes')).toMatchObject({ bitOffset: 64, parent: { kind: 'UNION' } });
    expect(formatType(btf, memberByName(btf, holder.id, 'o')!.member.type)).toBe('struct opaque *');
    const tags = btf.types.filter((t) => t.kind === 'DECL_TAG').map((t) => [t.name, t.kind === 'DECL_TAG' && t.componentIdx]);
    expect(tags).toEqual(expect.arrayContaining([['func_tag', -1], ['arg_tag', 0], ['field_tag', 2], ['var_tag', -1]]));
  });

  it('core: CO-RE relocation records', () => {
    const c = program(CORE.name);
    const btf = btfOf(c);
    const relos = extOf(c, btf).coreRelo.get('.text')!;
    expect(relos.map((r) => r.kindName)).toEqual(
      expect.arrayContaining([
        'FIELD_BYTE_OFFSET',
        'FIELD_BYTE_SIZE',
        'FIELD_EXISTS',
        'FIELD_SIGNED',
        'FIELD_LSHIFT_U64',
        'FIELD_RSHIFT_U64',
        'TYPE_ID_LOCAL',
        'TYPE_ID_TARGET',
        'TYPE_EXISTS',
        'TYPE_SIZE',
        'ENUMVAL_EXISTS',
        'ENUMVAL_VALUE',
      ]),
    );
    const meta = btf.types.find((t) => t.kind === 'STRUCT' && t.name === 'pkt_meta')!;
    // m->mark is member 0, m->vlan member 1: access strings "0:0" and "0:1" on struct pkt_meta.
    expect(relos).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ typeId: meta.id, accessStr: '0:0', kindName: 'FIELD_BYTE_OFFSET' }),
        expect.objectContaining({ typeId: meta.id, accessStr: '0:1', kindName: 'FIELD_BYTE_OFFSET' }),
      ]),
    );
    const modeEnum = btf.types.find((t) => t.kind === 'ENUM' && t.name === 'mode')!;
    expect(relos.filter((r) => r.kindName.startsWith('ENUMVAL'))).toEqual([
      expect.objectContaining({ typeId: modeEnum.id, accessStr: '1' }),
      expect.objectContaining({ typeId: modeEnum.id, accessStr: '1' }),
    ]);
    for (const r of relos) expect(r.insnOff % 8).toBe(0);
  });

  it('maps: the program has func_info for the static subprograms', () => {
    const c = program(MAPS.name);
    const ext = extOf(c, btfOf(c));
    expect(ext.funcInfo.get('.text')!.map((f) => f.name)).toEqual(['mix', 'pick']);
    expect(ext.funcInfo.get('xdp')!.map((f) => f.name)).toEqual(['xdp_maps']);
  });
});

/**
 * `offload dump prog.o`: what an object holds — programs, maps, and each
 * program's instructions beside the C source lines they came from — as text
 * for people, or as JSON for tools (`--json`), or as llvm-objdump's listing of
 * the raw sections (`--objdump`).
 */
import { formatFuncSignature, formatType } from '../../xdp/btf/btf-format.js';
import type { Btf } from '../../xdp/btf/btf-types.js';
import { lddwValue } from '../../xdp/isa/insn.js';
import { mapFlagsText, mapTypeName } from '../../xdp/maps/map-types.js';
import type { MapDef, Program } from '../../xdp/object/bpf-object.js';
import { findPrograms, type LoadedObject } from '../../xdp/object/load-object.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import type { Io } from './io.js';
import { hintLineInfo, loadInput, type LoadInputOptions } from './load-input.js';
import { objdumpListing } from '../../xdp/object/objdump.js';
import { describeInsn, programListing } from '../../xdp/object/program-listing.js';

export interface DumpOptions extends LoadInputOptions {
  section?: string;
  json?: boolean;
  objdump?: boolean;
  source?: boolean;
}

/** A BTF type as C, or undefined when there is no BTF or the type cannot be rendered. */
function cType(btf: Btf | undefined, id: number | undefined): string | undefined {
  if (!btf || id === undefined) return undefined;
  try {
    return formatType(btf, id);
  } catch {
    return undefined;
  }
}

function signatureOf(btf: Btf | undefined, id: number | undefined): string | undefined {
  if (!btf || id === undefined) return undefined;
  try {
    return formatFuncSignature(btf, id);
  } catch {
    return undefined;
  }
}

function mapJson(obj: LoadedObject, m: MapDef): Record<string, unknown> {
  return {
    index: m.index, name: m.name, type: mapTypeName(m.type), typeId: m.type,
    keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags,
    pinning: m.pinning === 1 ? 'by_name' : m.pinning === 0 ? 'none' : m.pinning,
    origin: m.origin, section: m.section,
    keyType: cType(obj.btf, m.keyTypeId), valueType: cType(obj.btf, m.valueTypeId),
    ...(m.inner ? { inner: { type: mapTypeName(m.inner.type), keySize: m.inner.keySize, valueSize: m.inner.valueSize, maxEntries: m.inner.maxEntries } } : {}),
    ...(m.initialSlots ? { initialSlots: m.initialSlots } : {}),
  };
}

function programJson(obj: LoadedObject, p: Program): Record<string, unknown> {
  return {
    name: p.name, section: p.section, progType: p.type.progType, attachType: p.type.attach ?? null,
    frags: p.type.frags ?? false, static: p.static ?? false, typeFrom: p.type.assumed ?? 'section',
    kfuncs: p.kfuncs ?? [], insnCount: p.insns.length, slotCount: p.slots.length === 0 ? 0 : p.slots[p.slots.length - 1]! + (p.insns[p.insns.length - 1]!.next ? 2 : 1),
    funcs: p.funcs.map((f) => ({ name: f.name, start: f.start, slot: f.slot, section: f.section, signature: signatureOf(obj.btf, f.btfTypeId) })),
    insns: p.insns.map((insn, i) => ({
      index: i, slot: p.slots[i], code: insn.code, dst: insn.dst, src: insn.src, off: insn.off, imm: insn.imm,
      ...(insn.next ? { imm64: lddwValue(insn).toString() } : {}),
      text: describeInsn(p, i, obj.maps),
      ...(p.lines[i] ? { source: p.lines[i] } : {}),
    })),
  };
}

function mapsTable(obj: LoadedObject): string[] {
  if (obj.maps.length === 0) return ['maps: none'];
  const rows = obj.maps.map((m) => [
    String(m.index), m.name, mapTypeName(m.type), String(m.keySize), String(m.valueSize), String(m.maxEntries),
    mapFlagsText(m.flags), m.pinning === 1 ? 'by_name' : '-', m.section,
    [cType(obj.btf, m.keyTypeId) && `key ${cType(obj.btf, m.keyTypeId)}`, cType(obj.btf, m.valueTypeId) && `value ${cType(obj.btf, m.valueTypeId)}`,
      m.inner && `inner ${mapTypeName(m.inner.type)} ${m.inner.keySize}/${m.inner.valueSize}/${m.inner.maxEntries}`,
      m.initialSlots && `init ${m.initialSlots.map((s) => `[${s.slot}]=${s.name}`).join(' ')}`,
      m.maxEntries === 0 && (m.type === MAP_TYPE.PERF_EVENT_ARRAY ? 'max 0: one per possible CPU at load' : `max 0: needs --map-size ${m.name}=N`)]
      .filter(Boolean).join(', '),
  ]);
  const head = ['idx', 'name', 'type', 'key', 'value', 'max', 'flags', 'pin', 'section', 'types'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const fmt = (r: string[]) => `  ${r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}`.trimEnd();
  return ['maps:', fmt(head), ...rows.map(fmt)];
}

/** How a program's type was decided, as the listing says it. */
const TYPE_SOURCE = {
  section: '',
  'legacy-name': '  (type assumed from a pre-libbpf-1.0 section name; --type xdp to say so)',
  option: '  (type from --type)',
} as const;

export function dumpText(obj: LoadedObject, opts: DumpOptions): string {
  if (opts.objdump) return objdumpListing(obj.elf, obj.file, { relocs: true });
  const programs = findPrograms(obj, opts.section);
  const out: string[] = [
    `${obj.file}: ${obj.programs.length} XDP program(s), ${obj.maps.length} map(s), license ${obj.license ?? '(none)'}, ` +
      `${obj.hasBtf ? 'BTF' : 'no BTF'}${obj.hasLineInfo ? ' with line info' : ''}`,
    '',
    ...mapsTable(obj),
    '',
    'programs:',
    ...obj.programs.map((p) => `  ${p.name}  section ${p.section}  ${p.type.attach ?? p.type.progType}${p.type.frags ? ' (frags)' : ''}` +
      `${p.static ? '  static' : ''}${TYPE_SOURCE[p.type.assumed ?? 'section']}  ` +
      `${p.insns.length} insns, ${p.funcs.length} function(s)${p.kfuncs ? `, kfuncs ${p.kfuncs.map((k) => k.name).join(' ')}` : ''}`),
  ];
  if (obj.foreign.length > 0) {
    out.push('', 'not XDP (not offloadable, listed for reference):',
      ...obj.foreign.map((f) => `  ${f.name}  section ${f.section}  ${f.progType}`));
  }
  for (const p of programs) {
    out.push('', `Program ${p.name} (section ${p.section}):`);
    const sig = signatureOf(obj.btf, p.funcs[0]?.btfTypeId);
    if (sig) out.push(`; ${sig}`);
    out.push(programListing(p, obj.maps, { source: opts.source ?? true }));
  }
  return `${out.join('\n')}\n`;
}

export function dumpJson(obj: LoadedObject, opts: DumpOptions): string {
  const programs = findPrograms(obj, opts.section);
  return `${JSON.stringify({
    file: obj.file, license: obj.license ?? null, kernelVersion: obj.kernelVersion ?? null,
    btf: obj.hasBtf, lineInfo: obj.hasLineInfo,
    maps: obj.maps.map((m) => mapJson(obj, m)),
    programs: programs.map((p) => programJson(obj, p)),
    foreign: obj.foreign,
  }, null, 2)}\n`;
}

export function runDump(path: string, opts: DumpOptions, io: Io): string {
  const obj = loadInput(path, opts);
  if (!opts.json && !opts.objdump && (opts.source ?? true)) hintLineInfo(path, findPrograms(obj, opts.section), io);
  return opts.json ? dumpJson(obj, opts) : dumpText(obj, opts);
}

/**
 * `offload caps list | show NAME | diff A B`: the shipped card profiles, one
 * profile in full, and what differs between two (by JSON path). NAME may be a
 * shipped profile or a JSON file, as for `check --caps`.
 */
import { readFileSync } from 'node:fs';
import { checkOutputFile, writeOutputFile } from '../../xdp/output/output-paths.js';
import { CapsError } from '../../caps/caps-error.js';
import { resolveProfile, shippedProfiles } from '../../caps/load-profile.js';
import type { CardProfile } from '../../caps/profile.js';
import { decodeCardArea, encodeCardArea, type CardArea } from '../../caps/tlv.js';
import { formatJson } from '../../xdp/maps/json-text.js';
import type { Io } from './io.js';

const mhz = (p: CardProfile) => `${p.timing.clockKHz / 1000} MHz`;

export function capsList(io: Io): number {
  const rows = shippedProfiles().map((n) => resolveProfile(n).profile).map((p) => [
    p.name, p.model, `${p.isa.wordBits}-bit`, `${p.timing.cores}×${p.timing.threadsPerCore} @ ${mhz(p)}`,
    String(p.helpers.length), p.maps.types.join(','), `${p.stack.bytes} B`, String(p.maxInsns), p.actions.join(','),
  ]);
  const head = ['name', 'model', 'words', 'cores×threads', 'helpers', 'map types', 'stack', 'max insns', 'actions'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
  return 0;
}

function describe(p: CardProfile): string[] {
  const isa = p.isa;
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  return [
    `${p.name}: ${p.vendor} ${p.model} (BPF ABI ${p.abiVersion})`,
    `  ${p.description}`,
    'instructions:',
    `  ${isa.wordBits}-bit words; multiply ${isa.mul}; divide ${isa.div}; signed divide ${yes(isa.signedDiv)}; alu32 ${yes(isa.alu32)}; jmp32 ${yes(isa.jmp32)}`,
    `  sign extension ${yes(isa.signExtend)}; bswap ${yes(isa.bswap)}; bpf-to-bpf calls ${yes(isa.calls)}; tail calls ${yes(isa.tailCalls)}; loops ${yes(isa.loops)}`,
    `  atomics: ${isa.atomics.ops.length ? `${isa.atomics.ops.join(', ')}${isa.atomics.fetch ? ' (and fetch forms)' : ''} on ${isa.atomics.on.join(', ')}` : 'none'}`,
    `helpers (${p.helpers.length}):`,
    ...p.helpers.map((h) => `  ${String(h.id).padStart(4)}  ${h.name}${h.flags !== undefined ? `  flags must be 0x${h.flags.toString(16)}` : ''}${h.address !== undefined ? `  @0x${h.address.toString(16)}` : ''}`),
    'maps:',
    `  types ${p.maps.types.join(', ')}; at most ${p.maps.maxMaps} maps, ${p.maps.maxEntries} entries in all`,
    `  key ≤ ${p.maps.maxKeySize} B, value ≤ ${p.maps.maxValueSize} B, element ≤ ${p.maps.maxElemSize} B`,
    'limits:',
    `  stack ${p.stack.bytes} B per call chain in frames of ${p.stack.frameBytes} B; program ≤ ${p.maxInsns} card instructions`,
    `  packet bytes on-chip ${p.packetSplitBytes}; queue select ${yes(p.queueSelect)}; multi-entry control messages ${yes(p.cmsgMultiEnt)}`,
    `  adjust_head: ${p.adjustHead ? `packet start ${p.adjustHead.offMin}..${p.adjustHead.offMax}, always −${p.adjustHead.guaranteedSub}/+${p.adjustHead.guaranteedAdd} bytes, ${p.adjustHead.noMeta ? 'no metadata' : 'keeps metadata'}` : 'not available'}`,
    `  actions: ${p.actions.join(', ')}`,
    'timing:',
    `  ${p.timing.cores} cores × ${p.timing.threadsPerCore} threads at ${mhz(p)}, issue width ${p.timing.issueWidth}`,
    ...p.timing.memories.map((m) => `  ${m.name.padEnd(8)} ${String(m.latencyCycles).padStart(4)} cycles  ${m.bytes} B${[
      m.name === p.timing.packetMemory ? 'packets' : '', m.name === p.timing.mapMemory ? 'maps' : '', m.name === p.timing.stackMemory ? 'stack' : '',
    ].filter(Boolean).map((w) => `  (${w})`).join('')}`),
    `  costs (cycles): alu ${p.timing.costs.alu}, mul ${p.timing.costs.mul}, div ${p.timing.costs.div}, branch ${p.timing.costs.branch}, helper call ${p.timing.costs.helperCall}`,
  ];
}

export function capsShow(name: string, opts: { json?: boolean }, io: Io): number {
  const { profile } = resolveProfile(name);
  io.stdout.write(opts.json ? `${formatJson(profile)}\n` : `${describe(profile).join('\n')}\n`);
  return 0;
}

export interface ReadOptions {
  card?: string;
  tlv?: string;
  bar?: string;
  json?: boolean;
}

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new CapsError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
}

/**
 * `caps read --card NAME`: the simulated card NAME (a shipped profile or a file) exposes its
 * capability area and control BAR as NFP firmware does, and the profile is read back from them as
 * the nfp driver reads them; `--tlv F --bar F` reads an area saved by `caps write` (or edited).
 */
export function capsRead(opts: ReadOptions, io: Io): number {
  let area: CardArea;
  let source: string;
  if (opts.card !== undefined) {
    if (opts.tlv !== undefined || opts.bar !== undefined) throw new CapsError('give either --card or --tlv/--bar, not both');
    area = encodeCardArea(resolveProfile(opts.card).profile);
    source = `card ${opts.card}`;
  } else if (opts.tlv !== undefined && opts.bar !== undefined) {
    area = { tlv: readBytes(opts.tlv), bar: readBytes(opts.bar) };
    source = opts.tlv;
  } else {
    throw new CapsError('caps read needs --card NAME, or --tlv FILE and --bar FILE');
  }
  const { profile, warnings } = decodeCardArea(area, source);
  for (const w of warnings) io.stderr.write(`offload: warning: ${source}: ${w}\n`);
  io.stdout.write(opts.json ? `${formatJson(profile)}\n` : `${describe(profile).join('\n')}\n`);
  return 0;
}

/** `caps write NAME --tlv F --bar F`: the capability area and BAR a card with this profile exposes. */
export function capsWrite(name: string, opts: { tlv: string; bar: string }, io: Io): number {
  checkOutputFile(opts.tlv);
  checkOutputFile(opts.bar);
  const area = encodeCardArea(resolveProfile(name).profile);
  writeOutputFile(opts.tlv, area.tlv);
  writeOutputFile(opts.bar, area.bar);
  io.stdout.write(`${opts.tlv}: ${area.tlv.length} bytes of capability records; ${opts.bar}: ${area.bar.length} bytes of control BAR\n`);
  return 0;
}

/** Every leaf of a profile by JSON path; arrays of helpers and memories keyed by id and name. */
function leaves(v: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x !== 'object' || x === null)) out.set(path, v.map(String).join(', '));
    else for (const x of v as Record<string, unknown>[]) leaves(x, `${path}[${String(x.id ?? x.name)}]`, out);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) leaves(x, `${path}.${k}`, out);
  } else {
    out.set(path, JSON.stringify(v));
  }
  return out;
}

export function capsDiff(a: string, b: string, opts: { json?: boolean }, io: Io): number {
  const pa = resolveProfile(a).profile;
  const pb = resolveProfile(b).profile;
  const la = leaves(pa, '$', new Map());
  const lb = leaves(pb, '$', new Map());
  const paths = [...new Set([...la.keys(), ...lb.keys()])].sort();
  const diffs = paths.filter((p) => la.get(p) !== lb.get(p)).map((p) => ({ path: p, [pa.name]: la.get(p) ?? null, [pb.name]: lb.get(p) ?? null }));
  if (opts.json) {
    io.stdout.write(`${JSON.stringify(diffs, null, 2)}\n`);
    return 0;
  }
  if (diffs.length === 0) {
    io.stdout.write(`${pa.name} and ${pb.name} do not differ\n`);
    return 0;
  }
  const w = Math.max(...diffs.map((d) => d.path.length));
  io.stdout.write(`${diffs.length} differences (${pa.name} → ${pb.name}):\n${diffs.map((d) =>
    `  ${d.path.padEnd(w)}  ${la.get(d.path) ?? '(absent)'} → ${lb.get(d.path) ?? '(absent)'}`).join('\n')}\n`);
  return 0;
}

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
import { diffProfiles } from '../../caps/profile-diff.js';
import { decodeCardArea, encodeCardArea, type CardArea } from '../../caps/tlv.js';
import { formatJson } from '../../xdp/maps/json-text.js';
import type { Io } from './io.js';

const mhz = (p: CardProfile) => `${p.timing.clockKHz / 1000} MHz`;

/** `caps list --json`: one summary per shipped profile, numbers as numbers. */
function listEntry(p: CardProfile) {
  return {
    name: p.name, vendor: p.vendor, model: p.model, wordBits: p.isa.wordBits,
    cores: p.timing.cores, threadsPerCore: p.timing.threadsPerCore, clockKHz: p.timing.clockKHz,
    helpers: p.helpers.map((h) => h.name), mapTypes: p.maps.types, stackBytes: p.stack.bytes, maxInsns: p.maxInsns, actions: p.actions,
  };
}

export function capsList(opts: { json?: boolean }, io: Io): number {
  const profiles = shippedProfiles().map((n) => resolveProfile(n).profile);
  if (opts.json) {
    io.stdout.write(`${formatJson(profiles.map(listEntry))}\n`);
    return 0;
  }
  const rows = profiles.map((p) => [
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

/** A profile value in one line: plain lists as `[a, b]`, records and strings as JSON. */
function shown(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) return `[${v.join(', ')}]`;
  return formatJson(v, 0);
}

/** For two plain lists, what one has that the other lacks: `(+redirect −tx)`. */
function listChange(a: unknown, b: unknown): string {
  if (!Array.isArray(a) || !Array.isArray(b)) return '';
  const added = b.filter((x) => !a.includes(x)).map((x) => `+${String(x)}`);
  const removed = a.filter((x) => !b.includes(x)).map((x) => `−${String(x)}`);
  const both = [...added, ...removed];
  return both.length > 0 ? `  (${both.join(' ')})` : '';
}

/**
 * `caps diff A B`, exit status as diff(1) gives it: 0 when the profiles are the same, 1 when they
 * differ (the caller turns an error into 2).
 */
export function capsDiff(a: string, b: string, opts: { json?: boolean }, io: Io): number {
  const pa = resolveProfile(a).profile;
  const pb = resolveProfile(b).profile;
  const diffs = diffProfiles(pa, pb);
  if (opts.json) {
    io.stdout.write(`${formatJson({ a: pa.name, b: pb.name, same: diffs.length === 0, differences: diffs })}\n`);
  } else if (diffs.length === 0) {
    io.stdout.write(`${pa.name} and ${pb.name} do not differ\n`);
  } else {
    const w = Math.max(...diffs.map((d) => d.path.length));
    io.stdout.write(`${diffs.length} difference${diffs.length === 1 ? '' : 's'} (${pa.name} → ${pb.name}):\n${diffs.map((d) =>
      `  ${d.path.padEnd(w)}  ${shown(d.a)} → ${shown(d.b)}${listChange(d.a, d.b)}`).join('\n')}\n`);
  }
  return diffs.length === 0 ? 0 : 1;
}

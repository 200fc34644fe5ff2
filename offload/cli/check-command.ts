/**
 * `offload check prog.o --caps nfp-4000`: verify the program as the kernel
 * would, check it against the card's profile, and say where it runs —
 * `offload` (exit 0), `host` (exit 3), `reject` (exit 2) — with every reason
 * (instruction, C line, rule, suggestion) and what it uses of the card.
 */
import pc from 'picocolors';
import type { Colors } from 'picocolors/types.js';
import { isGplCompatible } from '../verifier/license.js';
import { resolveProfile } from '../../caps/load-profile.js';
import type { CardProfile } from '../../caps/profile.js';
import { selectProgram } from '../../xdp/object/load-object.js';
import { requireMapSizes } from '../../xdp/object/map-sizes.js';
import { hintLineInfo, loadInput, noticeTypes, withoutLineInfo, type LoadInputOptions } from './load-input.js';
import { decideOffload, verdictExitCode, type OffloadReport, type ReportedReason } from '../rules/decide.js';
import { UsageError, useColour, type Io } from './io.js';

export interface CheckOptions extends LoadInputOptions {
  section?: string;
  caps: string;
  logLevel: string;
  unprivileged?: boolean;
  json?: boolean;
}


const VERDICT_TEXT = {
  offload: (p: CardProfile) => `offload — ${p.name} can run it`,
  host: (p: CardProfile) => `host — safe, but ${p.name} cannot run it: it will run on the host CPU`,
  reject: () => 'reject — it cannot be loaded',
} as const;

/** Where a reason points: `insn 17 (tail_call.c:72)`, or `program`. */
function reasonPlace(r: ReportedReason): string {
  const head = r.insn !== undefined ? `insn ${r.insn}` : 'program';
  return `${head}${r.source ? ` (${r.source.file.split('/').pop()}:${r.source.line})` : ''}`;
}

/** One reason's lines; `width` is the widest place of the report, so the rule column stays aligned. */
function reasonLines(r: ReportedReason, width: number, c: Colors): string[] {
  const out = [`  ${reasonPlace(r).padEnd(width)} ${c.cyan(r.rule.padEnd(13))} ${r.message.split('\n')[0]}`];
  const indent = ' '.repeat(4);
  if (r.text) out.push(`${indent}${r.text}`);
  if (r.source) out.push(`${indent}; ${r.source.text.trim()}`);
  for (const extra of r.message.split('\n').slice(1)) out.push(`${indent}${extra}`);
  if (r.suggestion) out.push(`${indent}suggestion: ${r.suggestion}`);
  return out;
}

function resourceLines(report: OffloadReport, c: Colors): string[] {
  const r = report.resources;
  const row = (name: string, used: number, limit: number, unit: string, note = '') =>
    `  ${name.padEnd(14)} ${String(used).padStart(8)} / ${String(limit).padEnd(8)} ${unit}${used > limit ? c.red('  OVER') : ''}${note ? `  (${note})` : ''}`;
  return [
    'resources:',
    row('stack', r.stack.used, r.stack.limit, 'bytes', `deepest call chain, frames of ${r.stack.frameBytes}`),
    row('maps', r.maps.used, r.maps.limit, 'maps'),
    row('map entries', r.mapEntries.used, r.mapEntries.limit, 'entries'),
    row('program size', r.programSize.used, r.programSize.limit, 'card insns', r.programSize.estimate
      ? `estimated from ${r.programSize.ebpfInsns} eBPF instructions: the JIT does not translate it for this card`
      : `the JIT's count for ${r.programSize.ebpfInsns} eBPF instructions, the prefetch pad included`),
  ];
}

export async function checkCommand(file: string, opts: CheckOptions, io: Io): Promise<number> {
  const level = Number(opts.logLevel);
  if (level !== 0 && level !== 1 && level !== 2) throw new UsageError(`--log-level expects 0, 1 or 2, got '${opts.logLevel}'`);
  const { profile } = resolveProfile(opts.caps);
  const obj = loadInput(file, opts);
  const program = selectProgram(obj, opts.section);
  requireMapSizes(obj);
  noticeTypes([program], io);
  const report = decideOffload(obj, program, profile, {
    privileged: !opts.unprivileged, logLevel: level as 0 | 1 | 2, gplCompatible: isGplCompatible(obj.license),
  });
  const v = report.verifier;
  // C lines are what the reasons (and the verifier's log) are read by.
  if (report.reasons.some((r) => r.insn !== undefined) || level > 0) hintLineInfo(file, [program], io);
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({
      file, program: program.name, section: program.section, caps: profile.name, lineInfo: withoutLineInfo([program]).length === 0,
      verdict: report.verdict, reasons: report.reasons, resources: report.resources,
      verifier: { ok: v.ok, stats: v.stats, verificationMs: v.timeNs / 1e6, ...(level > 0 ? { log: v.log } : {}) },
    }, null, 2)}\n`);
    return verdictExitCode(report.verdict);
  }
  const c = pc.createColors(useColour(io));
  const verdictColour = { offload: c.green, host: c.yellow, reject: c.red }[report.verdict];
  const out: string[] = [];
  if (level > 0) out.push(v.log.trimEnd(), '');
  out.push(`${file}: ${program.name} (section ${program.section}) on ${profile.name} (${profile.model})`);
  out.push(`verdict: ${verdictColour(c.bold(VERDICT_TEXT[report.verdict](profile)))}`);
  const width = Math.max(28, ...report.reasons.map((r) => reasonPlace(r).length));
  if (report.reasons.length > 0) out.push(`reasons (${report.reasons.length}):`, ...report.reasons.flatMap((r) => reasonLines(r, width, c)));
  out.push(...resourceLines(report, c));
  const summary = v.log.trimEnd().split('\n').pop() ?? '';
  out.push(`verifier: ${v.ok ? 'accepted' : 'refused'} (${opts.unprivileged ? 'unprivileged' : 'privileged'} loader); ${summary}; ${(v.timeNs / 1e3).toFixed(0)} usec`);
  io.stdout.write(`${out.join('\n')}\n`);
  return verdictExitCode(report.verdict);
}

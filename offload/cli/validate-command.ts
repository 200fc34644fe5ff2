/**
 * `offload validate prog.o --caps nfp-4000 [--pcap FILE] [--random N --seed S]
 * [--oracle kernel] [--json]`: prove the translation packet by packet — the host
 * engine, the card image on the card executor and optionally the running kernel on
 * the same packets (a capture's, and protocol-aware random ones aimed at the
 * program's branches), action, bytes and maps compared after each. Exit 0 when all
 * agree, 1 on a mismatch (shown shrunk, with the eBPF instruction where the runs part
 * and its card instructions), 2/3 as `check` when the program is refused or not
 * offloadable.
 */
import { resolveProfile } from '../../caps/load-profile.js';
import { disasmInsn } from '../../nic-sim/isa/index.js';
import { decodeImage, encodeImage } from '../../nic-sim/image/index.js';
import { describeCut, hexBytes, type CaptureStats } from '../../xdp/pcap/capture-record.js';
import { openCapture, type Capture } from '../../xdp/pcap/capture.js';
import { kernelAvailable, loadObjectIntoKernel, type KernelObject } from '../../xdp/kernel/kernel-oracle.js';
import { selectProgram } from '../../xdp/object/load-object.js';
import { requireMapSizes } from '../../xdp/object/map-sizes.js';
import { describeInsn } from '../../xdp/object/program-listing.js';
import type { Program } from '../../xdp/object/bpf-object.js';
import { jitProgram } from '../jit/jit-program.js';
import { decideOffload, verdictExitCode } from '../rules/decide.js';
import { hintsFromInsns } from '../validate/branch-hints.js';
import { createPacketGenerator } from '../validate/packet-gen.js';
import { validate, type Mismatch, type ValidatePacket, type ValidateReport } from '../validate/validate.js';
import { isGplCompatible } from '../verifier/license.js';
import { UsageError, type Io } from './io.js';
import { requireJitCard } from './jit-command.js';
import { loadInput, noticeTypes, type LoadInputOptions } from './load-input.js';

export interface ValidateCommandOptions extends LoadInputOptions {
  section?: string;
  caps: string;
  pcap?: string;
  random?: string;
  seed: string;
  oracle?: string;
  json?: boolean;
  shrink?: boolean;
}

/** Packets used when neither --pcap nor --random is given. */
const DEFAULT_RANDOM = 1000;

/** Most random packets one run takes. */
const MAX_RANDOM = 100_000_000;
/** Seeds are 32-bit (the packet generator's and get_prandom_u32's state). */
const MAX_SEED = 0xffffffff;

function count(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} expects a whole number, got '${value}'`);
  const n = Number(value);
  if (n > max) throw new UsageError(`${name} ${value} is above ${max}`);
  return n;
}

function* packetsOf(program: Program, capture: Capture | undefined, random: number, seed: number): Generator<ValidatePacket> {
  if (capture) {
    let n = 0;
    for (const r of capture) yield { data: r.data.slice(), source: 'pcap', n: n++, linkType: r.linkType };
  }
  const gen = createPacketGenerator({ seed, hints: hintsFromInsns(program.insns) });
  for (let n = 0; n < random; n++) yield { data: gen.next(), source: 'random', n };
}

/** Records the capture reader passed over count as packets read and not compared, by the reader's reason. */
function withCaptureSkips(report: ValidateReport, capture: Capture | undefined): ValidateReport {
  if (!capture) return report;
  const stats = capture.stats as CaptureStats;
  const skipped: Record<string, number> = { ...report.skipped };
  let extra = 0;
  for (const [reason, n] of Object.entries(stats.skipped)) {
    skipped[`not compared: the capture's record is unusable (${reason})`] = n ?? 0;
    extra += n ?? 0;
  }
  return { ...report, packets: report.packets + extra, skipped };
}

const where = (p: ValidatePacket): string => (p.source === 'pcap' ? `record ${p.n + 1} of the capture` : `random packet ${p.n + 1}`);

function mismatchLines(m: Mismatch, program: Program, report: { image: { source: readonly number[] }; text: (pc: number) => string }, maps: Parameters<typeof describeInsn>[2]): string[] {
  const out = [`MISMATCH (${m.between}) at ${where(m.packet)}, ${m.packet.data.length} bytes: ${m.difference.what}: host ${m.difference.host}, ${m.between === 'host/card' ? 'card' : 'kernel'} ${m.difference.card}`];
  if (m.shrunk) {
    out.push(`shrunk to ${m.shrunk.data.length} bytes in ${m.shrunk.tries} tries (${m.shrunk.difference.what}: host ${m.shrunk.difference.host}, card ${m.shrunk.difference.card}):`);
    out.push(`  ${hexBytes(m.shrunk.data)}`);
  } else {
    out.push(`packet: ${hexBytes(m.packet.data)}`);
    if (m.notShrunk) out.push(`not shrunk: ${m.notShrunk}`);
  }
  const d = m.divergence;
  if (d) {
    const pos = program.slots.indexOf(d.insn);
    const line = pos >= 0 ? program.lines[pos] : undefined;
    out.push(`the runs part at eBPF instruction ${d.insn}${line ? ` (${line.file.split('/').pop()}:${line.line}  ${line.text.trim()})` : ''}: ${d.why}`);
    if (pos >= 0) out.push(`  ${d.insn}: ${describeInsn(program, pos, maps)}`);
    for (const pc of m.cardCode ?? []) out.push(`    card ${pc}: ${report.text(pc)}`);
  }
  return out;
}

export function validateCommand(file: string, opts: ValidateCommandOptions, io: Io): number {
  const { profile } = resolveProfile(opts.caps);
  requireJitCard(profile, 'validate');
  const random = count(opts.random, '--random', MAX_RANDOM) ?? (opts.pcap ? 0 : DEFAULT_RANDOM);
  const seed = count(opts.seed, '--seed', MAX_SEED)!;
  if (random === 0 && !opts.pcap) throw new UsageError('validate: --random 0 and no --pcap: there are no packets to compare');
  if (opts.oracle !== undefined && opts.oracle !== 'kernel') throw new UsageError(`--oracle takes 'kernel', got '${opts.oracle}'`);
  const obj = loadInput(file, opts);
  const program = selectProgram(obj, opts.section);
  requireMapSizes(obj);
  noticeTypes([program], io);
  const decision = decideOffload(obj, program, profile, { privileged: true, gplCompatible: isGplCompatible(obj.license) });
  if (decision.verdict !== 'offload') {
    const why = decision.reasons.map((r) => `  ${r.insn !== undefined ? `insn ${r.insn}: ` : ''}${r.message.split('\n')[0]}`);
    io.stderr.write(`offload: ${file}: ${program.name}: ${decision.verdict === 'reject' ? 'refused by the verifier' : `not offloadable on ${profile.name}`}, nothing to validate:\n${why.join('\n')}\n`);
    return verdictExitCode(decision.verdict);
  }
  const jit = jitProgram(obj, program, profile, {}, decision.translated);
  // The card loads what `offload jit -o` would write.
  const image = decodeImage(encodeImage(jit.image, file), file);
  let kernel: KernelObject | undefined;
  if (opts.oracle === 'kernel') {
    const avail = kernelAvailable();
    if (!avail.ok) {
      io.stderr.write(`offload: --oracle kernel needs the running kernel's bpf(): ${avail.reason}\n`);
      return 1;
    }
    kernel = loadObjectIntoKernel(obj, { program: program.name });
  }
  let report: ValidateReport;
  const capture = opts.pcap ? openCapture(opts.pcap) : undefined;
  try {
    report = withCaptureSkips(validate({ obj, program, profile, image, records: jit.records, file, seed },
      packetsOf(program, capture, random, seed), { ...(kernel ? { kernel } : {}), shrink: opts.shrink !== false }), capture);
  } finally {
    kernel?.close();
  }
  const cut = capture ? (capture.stats as CaptureStats).cut : undefined;
  if (cut) io.stderr.write(`offload: warning: ${opts.pcap}: ${describeCut(cut)}\n`);
  const text = (pc: number) => disasmInsn(jit.card.insns[pc]!);
  if (opts.json) {
    const m = report.first;
    io.stdout.write(`${JSON.stringify({
      file, program: program.name, caps: profile.name, seed,
      packets: report.packets, compared: report.compared, skipped: report.skipped, mismatches: report.mismatches,
      engines: report.engines, coverage: report.coverage,
      ...(m ? {
        mismatch: {
          between: m.between, source: m.packet.source, n: m.packet.n, packet: hexBytes(m.packet.data), difference: m.difference,
          ...(m.shrunk ? { shrunk: { packet: hexBytes(m.shrunk.data), tries: m.shrunk.tries, difference: m.shrunk.difference } } : {}),
          ...(m.notShrunk ? { notShrunk: m.notShrunk } : {}),
          ...(m.divergence ? { divergence: { ...m.divergence, card: (m.cardCode ?? []).map((pc) => ({ pc, insn: text(pc) })) } } : {}),
        },
      } : {}),
    }, null, 2)}\n`);
    return report.mismatches > 0 ? 1 : 0;
  }
  const out: string[] = [];
  const sources = [opts.pcap ? `${opts.pcap}` : '', random > 0 ? `${random} random (seed ${seed})` : ''].filter(Boolean).join(' + ');
  out.push(`${file}: ${program.name} on ${profile.name}: ${report.engines.join(', ')}`);
  out.push(`packets: ${report.packets} (${sources}), compared ${report.compared}`);
  for (const [why, n] of Object.entries(report.skipped)) out.push(`  ${n} ${why}`);
  const cov = report.coverage;
  const pct = cov.branches ? ` (${((100 * cov.covered) / cov.branches).toFixed(0)}%)` : '';
  out.push(`branch coverage: ${cov.covered} of ${cov.branches} branch outcomes${pct}${cov.missed.length ? `; never: ${cov.missed.slice(0, 12).join(', ')}${cov.missed.length > 12 ? ', …' : ''}` : ''}`);
  out.push(`mismatches: ${report.mismatches}`);
  if (report.first) out.push(...mismatchLines(report.first, program, { image, text }, obj.maps));
  io.stdout.write(`${out.join('\n')}\n`);
  return report.mismatches > 0 ? 1 : 0;
}

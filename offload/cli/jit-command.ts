/**
 * `offload jit prog.o --caps nfp-4000 [-o prog.img] [--annotate] [--json]`: translate
 * an offloadable program for the card and say what it became — the size against the
 * card's limit, the image file (written whole, then renamed into place), the card
 * instructions of every eBPF instruction beside its C line (`--annotate`, as
 * `bpftool prog dump jited linum` shows a real card's), or the counts as JSON.
 * A program the verifier refuses, or one the card cannot run, is not translated: the
 * reasons are `offload check`'s and so is the exit status (2 refused, 3 host).
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolveProfile } from '../../caps/load-profile.js';
import { encodeImage } from '../../nic-sim/image/index.js';
import { disasmInsn } from '../../nic-sim/isa/index.js';
import type { MapDef, Program } from '../../xdp/object/bpf-object.js';
import { selectProgram } from '../../xdp/object/load-object.js';
import { requireMapSizes } from '../../xdp/object/map-sizes.js';
import { describeInsn } from '../../xdp/object/program-listing.js';
import { checkOutputFile, writeFailure } from '../../xdp/output/output-paths.js';
import { isGplCompatible } from '../verifier/license.js';
import { jitProgram, nfpShaped, passSavings, type JitResult } from '../jit/jit-program.js';
import type { CardProfile } from '../../caps/profile.js';
import { NO_SOURCE, PASSES, isPassName, type PassName } from '../jit/translate.js';
import { decideOffload, verdictExitCode } from '../rules/decide.js';
import { UsageError, type Io } from './io.js';
import { loadInput, noticeTypes, type LoadInputOptions } from './load-input.js';

export interface JitCommandOptions extends LoadInputOptions {
  section?: string;
  caps: string;
  output?: string;
  annotate?: boolean;
  json?: boolean;
  unprivileged?: boolean;
  /** Passes to leave out (repeatable `--no-opt NAME`). */
  opt?: string[];
}

/** `--no-opt NAME` values, checked against the pass names. */
export function passesOff(names: readonly string[] = []): Set<PassName> {
  for (const n of names) if (!isPassName(n)) throw new UsageError(`--no-opt: no pass '${n}'; the passes are ${PASSES.join(', ')}`);
  return new Set(names as PassName[]);
}

/** The image file, written under a temporary name and renamed, so that a failed write never leaves a partial image. */
function writeImage(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // Never created.
    }
    throw writeFailure(path, e);
  }
}

/** The annotated listing: per eBPF instruction its C line (when it changes), itself, and its card instructions. */
export function annotate(program: Program, maps: readonly MapDef[], jit: JitResult): string[] {
  const { card } = jit;
  const out: string[] = [];
  const width = String(card.insns.length - 1).length;
  // Card lines sit deeper than every eBPF line (whose index takes at most 5 columns), whatever the widths.
  const cardLine = (pc: number) => `${' '.repeat(10)}${String(pc).padStart(width)}: ${disasmInsn(card.insns[pc]!)}`;
  const firstCode = Math.min(...card.addressOf.values());
  if (firstCode > 0) {
    out.push('; prologue');
    for (let pc = 0; pc < firstCode; pc++) out.push(cardLine(pc));
  }
  let lastLine = '';
  program.insns.forEach((_, pos) => {
    const index = program.slots[pos]!;
    const start = card.addressOf.get(index)!;
    const line = program.lines[pos];
    const where = line && line.line > 0 ? `${line.file.split('/').pop()}:${line.line}` : '';
    if (where && where !== lastLine) {
      out.push(`; ${where}  ${line!.text.trim()}`);
      lastLine = where;
    }
    out.push(`${String(index).padStart(5)}: ${describeInsn(program, pos, maps)}`);
    for (let pc = start; pc < card.insns.length && card.sourceMap[pc] === index; pc++) out.push(cardLine(pc));
  });
  out.push('; outro (r0 → action code in gprA_0), then the prefetch pad');
  for (let pc = card.outroPc; pc < card.insns.length; pc++) if (card.sourceMap[pc] === NO_SOURCE) out.push(cardLine(pc));
  return out;
}

/** The JIT translates for 32-bit single-issue cards only: say so before any work, naming the profile. */
export function requireJitCard(profile: CardProfile, command: string): void {
  if (!nfpShaped(profile)) {
    throw new UsageError(`${command}: no JIT translates for ${profile.name} (${profile.isa.wordBits}-bit, issue width ${profile.timing.issueWidth}): `
      + 'this JIT targets NFP-shaped cards (32-bit, single issue: nfp-4000, minimal); `offload check` estimates the size for others');
  }
}

export function jitCommand(file: string, opts: JitCommandOptions, io: Io): number {
  const { profile } = resolveProfile(opts.caps);
  requireJitCard(profile, 'jit');
  const obj = loadInput(file, opts);
  const program = selectProgram(obj, opts.section);
  requireMapSizes(obj);
  noticeTypes([program], io);
  if (opts.output) checkOutputFile(opts.output);
  const report = decideOffload(obj, program, profile, { privileged: !opts.unprivileged, gplCompatible: isGplCompatible(obj.license) });
  if (report.verdict !== 'offload') {
    const why = report.reasons.map((r) => `  ${r.insn !== undefined ? `insn ${r.insn}: ` : ''}${r.message.split('\n')[0]}`);
    const head = report.verdict === 'reject'
      ? `${file}: ${program.name}: refused by the verifier, not translated`
      : `${file}: ${program.name}: not offloadable on ${profile.name} (it runs on the host CPU), not translated`;
    io.stderr.write(`offload: ${head}:\n${why.join('\n')}\n`);
    return verdictExitCode(report.verdict);
  }
  const noOpt = passesOff(opts.opt);
  const jit = jitProgram(obj, program, profile, { ...(opts.unprivileged ? { unprivileged: true } : {}), noOpt }, report.translated);
  const ebpf = program.insns.length;
  const cardInsns = jit.card.insns.length;
  if (opts.output) writeImage(opts.output, encodeImage(jit.image, opts.output));
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({
      file, program: program.name, caps: profile.name, ebpf_insns: ebpf, card_insns: cardInsns, limit: profile.maxInsns,
      passes: passSavings(jit.records, profile, jit.card, noOpt), ...(noOpt.size ? { off: [...noOpt] } : {}),
      ...(opts.output ? { image: opts.output } : {}),
    }, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [];
  out.push(`${file}: ${program.name} on ${profile.name}: ${ebpf} eBPF instructions → ${cardInsns} card instructions `
    + `(${(cardInsns / ebpf).toFixed(2)} per eBPF instruction; limit ${profile.maxInsns}, the 8-instruction prefetch pad included)`);
  const saved = Object.entries(passSavings(jit.records, profile, jit.card, noOpt));
  out.push(`passes: ${saved.map(([p, n]) => `${p} −${n}`).join(', ')}${noOpt.size ? `; off: ${[...noOpt].join(', ')}` : ''}`);
  if (opts.annotate) out.push(...annotate(program, obj.maps, jit));
  if (opts.output) out.push(`image: ${opts.output} (${jit.image.maps.length} maps, ${jit.image.relocs.length} relocations)`);
  io.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

/**
 * `offload check prog.o`: verify the program as the kernel would (the
 * verifier of offload/verifier/) and say whether it loads; on a refusal, the
 * instruction, its C source line and the kernel-style message. The card
 * capability rules (issue 5) come on top of this.
 */
import { loadObjectFile, selectProgram } from '../../xdp/object/load-object.js';
import { describeInsn } from '../../xdp/object/program-listing.js';
import { verifyProgram } from '../verifier/verifier.js';
import { UsageError, type Io } from './io.js';

export interface CheckOptions {
  section?: string;
  logLevel: string;
  unprivileged?: boolean;
  json?: boolean;
}

/** Exit codes: 0 the verifier accepts, 2 it refuses (1 is bad input, from main). */
export async function checkCommand(file: string, opts: CheckOptions, io: Io): Promise<number> {
  const level = Number(opts.logLevel);
  if (level !== 0 && level !== 1 && level !== 2) throw new UsageError(`--log-level expects 0, 1 or 2, got '${opts.logLevel}'`);
  const obj = loadObjectFile(file);
  const program = selectProgram(obj, opts.section);
  const gpl = obj.license !== undefined && /^(GPL|GPL v2|GPL and additional rights|Dual BSD\/GPL|Dual MIT\/GPL|Dual MPL\/GPL)$/.test(obj.license);
  const result = verifyProgram(program, obj.maps, {
    privileged: !opts.unprivileged, logLevel: level as 0 | 1 | 2, gplCompatible: gpl, attach: program.type.attach ?? 'XDP',
  });
  const index = result.error ? program.slots.indexOf(result.error.insn) : -1;
  const where = index >= 0 ? program.lines[index] : undefined;
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({
      file, program: program.name, section: program.section,
      verdict: result.ok ? 'accept' : 'reject',
      ...(result.error ? {
        error: {
          insn: result.error.insn, message: result.error.message,
          ...(index >= 0 ? { text: describeInsn(program, index, obj.maps) } : {}),
          ...(where ? { source: where } : {}),
        },
      } : {}),
      stats: result.stats, verificationMs: result.timeNs / 1e6,
      ...(level > 0 ? { log: result.log } : {}),
    }, null, 2)}\n`);
    return result.ok ? 0 : 2;
  }
  const out: string[] = [];
  if (level > 0) out.push(result.log.trimEnd());
  out.push(`${file}: ${program.name} (section ${program.section}): ${result.ok ? 'accepted by the verifier' : 'refused by the verifier'}` +
    ` (${opts.unprivileged ? 'unprivileged' : 'privileged'} loader)`);
  if (result.error) {
    if (index >= 0) out.push(`  insn ${result.error.insn}: ${describeInsn(program, index, obj.maps)}`);
    if (where) out.push(`  ; ${where.text.trim()}  @ ${where.file}:${where.line}:${where.col}`);
    out.push(...result.error.message.split('\n').map((l) => `  ${l}`));
  }
  if (level === 0) out.push(result.log.trimEnd());
  out.push(`verification time ${(result.timeNs / 1e3).toFixed(0)} usec`);
  io.stdout.write(`${out.join('\n')}\n`);
  return result.ok ? 0 : 2;
}

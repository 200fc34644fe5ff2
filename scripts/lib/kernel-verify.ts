/**
 * The running kernel's verifier as a yardstick: the verdict it gives a
 * verifier test case, and how long it takes to verify a program (for
 * `npm run verify:kernel` and `npm run bench:verifier`).
 *
 * Both load exactly what our verifier is given — one program and the object's
 * maps (global data with its initial value, .rodata frozen) — through
 * `loadProgramIntoKernel`, without BTF, so the two verifiers judge the same thing.
 */
import type { BpfObject, Program } from '../../xdp/object/bpf-object.js';
import { kernelVerdict, loadProgramIntoKernel, type KernelVerdict } from '../../xdp/kernel/load-program.js';
import { KernelError } from '../../xdp/kernel/kernel-error.js';
import { caseObject, type CaseExpect, type VerifierCase } from '../../test/verifier/case-loader.js';

/** The kernel's verdict on a case, loaded with the case's privileges at log level 1. */
export function kernelCaseVerdict(c: VerifierCase): KernelVerdict {
  const { object, program } = caseObject(c);
  return kernelVerdict(object, program, { privileged: c.privileged, logLevel: 1 });
}

/** A kernel verdict written as a case's `expect` (the message: the first error line). */
export function verdictAsExpect(v: KernelVerdict): CaseExpect {
  if (v.accepted) return 'accept';
  const r = v.rejection ?? { insn: -1, message: v.errno ?? 'refused' };
  return { reject: { insn: r.insn, message: r.message.split(' / ')[0] || (v.errno ?? 'refused') } };
}

/** Does a kernel verdict satisfy a case's expectation? Returns the difference, or undefined when it does. */
export function verdictMismatch(expect: CaseExpect, v: KernelVerdict): string | undefined {
  if (expect === 'accept') {
    return v.accepted ? undefined : `expected accept, kernel refused (${v.errno}) at insn ${v.rejection?.insn}: ${v.rejection?.message}`;
  }
  if (v.accepted) return `expected a refusal at insn ${expect.reject.insn} (${expect.reject.message}), kernel accepted`;
  const r = v.rejection!;
  const problems: string[] = [];
  if (r.insn !== expect.reject.insn) problems.push(`insn ${r.insn}, expected ${expect.reject.insn}`);
  if (!r.message.includes(expect.reject.message)) problems.push(`message '${r.message}' lacks '${expect.reject.message}'`);
  return problems.length ? `kernel refused differently: ${problems.join('; ')}` : undefined;
}

export interface KernelVerifyTime {
  readonly accepted: boolean;
  /** The log's "verification time N usec" (BPF_LOG_STATS), in µs. */
  readonly verifierUsec?: number;
  /**
   * Wall time of the BPF_PROG_LOAD call in ns (the syscall: verification, JIT, program setup);
   * for a refused program, of the whole attempt including map creation.
   */
  readonly wallNs: number;
  /** verified_insns of an accepted program; "processed N insns" of the log otherwise. */
  readonly processed?: number;
  readonly errno?: string;
}

/**
 * Load `program` with the log at BPF_LOG_STATS only (the kernel then writes just
 * its statistics and, on refusal, the error): the verifier's own time in µs and
 * the load's wall time. Best of `rounds` loads (default 1; no more rounds once
 * a second has passed).
 */
export function kernelVerifyTime(object: BpfObject, program: Program, opts: { privileged?: boolean; rounds?: number } = {}): KernelVerifyTime {
  let best: KernelVerifyTime | undefined;
  const started = process.hrtime.bigint();
  for (let i = 0; i < Math.max(1, opts.rounds ?? 1); i++) {
    // A slow program (a refused loop takes seconds) is measured once.
    if (i > 0 && process.hrtime.bigint() - started > 1_000_000_000n) break;
    let t: KernelVerifyTime;
    const t0 = process.hrtime.bigint();
    try {
      const p = loadProgramIntoKernel(object, program, { logLevel: 4, logSize: 1 << 16, privileged: opts.privileged ?? true });
      p.close();
      t = { accepted: true, wallNs: p.wallNs, processed: p.info.verifiedInsns, ...usec(p.log) };
    } catch (e) {
      if (!(e instanceof KernelError) || e.command !== 'BPF_PROG_LOAD') throw e;
      const processed = /processed (\d+) insns/.exec(e.log);
      // A refusal throws before the load's own wall time is known: time the whole attempt (maps included).
      t = { accepted: false, wallNs: Number(process.hrtime.bigint() - t0), errno: e.errnoName, ...usec(e.log), ...(processed ? { processed: Number(processed[1]) } : {}) };
    }
    if (!best || (t.verifierUsec ?? Infinity) < (best.verifierUsec ?? Infinity)) best = t;
  }
  return best!;
}

function usec(log: string): { verifierUsec?: number } {
  const m = /verification time (\d+) usec/.exec(log);
  return m ? { verifierUsec: Number(m[1]) } : {};
}

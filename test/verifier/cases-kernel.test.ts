/**
 * The verifier corpus against the running kernel: every case in
 * test/verifier/cases/ is loaded with BPF_PROG_LOAD (as root, or with
 * CAP_SYS_ADMIN/CAP_PERFMON dropped for `privileged: false` cases) and the
 * kernel's verdict must be the case's: accepted, or refused blaming the same
 * instruction with a log line containing the expected message. This proves the
 * corpus right; our verifier is measured against it by `npm run verify:kernel`.
 *
 * Without the kernel (or without root for the privileged cases) the kernel
 * checks are skipped with the reason printed; the corpus's own shape is checked
 * everywhere.
 */
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { kernelCaseVerdict, verdictMismatch } from '../../scripts/lib/kernel-verify.js';
import { caseObject, GROUPS, loadCases, type VerifierCase } from './case-loader.js';
import { verifyProgram } from '../../offload/verifier/verifier.js';

const cases = loadCases();

const kernel = kernelAvailable();

function counts(list: readonly VerifierCase[]): string {
  const lines = GROUPS.map((g) => {
    const mine = list.filter((c) => c.group === g);
    const acc = mine.filter((c) => c.expect === 'accept').length;
    const unpriv = mine.filter((c) => !c.privileged).length;
    return `  ${g.padEnd(14)} ${String(mine.length).padStart(3)} cases: ${String(acc).padStart(3)} accept, ${String(mine.length - acc).padStart(3)} reject (${unpriv} unprivileged)`;
  });
  return [`verifier cases: ${list.length}`, ...lines].join('\n');
}

describe('verifier corpus', () => {
  it('loads, assembles, and covers every group with both verdicts', () => {
    console.log(counts(cases));
    expect(cases.length).toBeGreaterThanOrEqual(170);
    for (const g of GROUPS) {
      const mine = cases.filter((c) => c.group === g);
      expect(mine.length, g).toBeGreaterThanOrEqual(12);
      expect(mine.some((c) => c.expect === 'accept'), `${g} has an accepted case`).toBe(true);
      expect(mine.some((c) => c.expect !== 'accept'), `${g} has a refused case`).toBe(true);
    }
    for (const c of cases) {
      const { object, program } = caseObject(c);
      expect(program.insns.length, c.name).toBeGreaterThan(0);
      expect(object.maps.length, c.name).toBe(c.maps.length);
      expect(c.why.length, `${c.name}: why`).toBeGreaterThan(10);
    }
  });
});

if (!kernel.ok) console.log(`SKIP verifier cases against the kernel: ${kernel.reason}`);
else if (!kernel.privileged) console.log('SKIP privileged verifier cases against the kernel: this process lacks CAP_SYS_ADMIN/CAP_PERFMON (run as root)');

describe.skipIf(!kernel.ok)('verifier cases against the kernel', () => {
  const results = new Map<string, { group: string; ok: boolean }>();
  for (const group of GROUPS) {
    describe(group, () => {
      for (const c of cases.filter((x) => x.group === group)) {
        const runnable = kernel.ok && (kernel.privileged || !c.privileged);
        it.skipIf(!runnable)(`${c.name}${c.privileged ? '' : ' [unprivileged]'}`, () => {
          const v = kernelCaseVerdict(c);
          const problem = verdictMismatch(c.expect, v);
          results.set(c.name, { group, ok: problem === undefined });
          expect(problem, `${c.file}: ${c.name}\n${v.log.split('\n').slice(-25).join('\n')}`).toBeUndefined();
          // Our walk covers what the kernel's covers: the same number of instructions processed.
          if (v.accepted) {
            const { object, program } = caseObject(c);
            const ours = verifyProgram(program, object.maps, { privileged: c.privileged, gplCompatible: /GPL/.test(c.license) });
            expect(ours.stats.processed, 'instructions processed').toBe(v.verifiedInsns);
          }
        });
      }
    });
  }
  it('summary', () => {
    const ran = [...results.values()];
    const lines = GROUPS.map((g) => {
      const mine = ran.filter((r) => r.group === g);
      return `  ${g.padEnd(14)} ${mine.filter((r) => r.ok).length}/${mine.length} as expected`;
    });
    console.log([`verifier cases checked against the kernel: ${ran.filter((r) => r.ok).length}/${ran.length}`, ...lines].join('\n'));
  });
});

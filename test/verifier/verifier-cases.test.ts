/**
 * Our verifier on the case corpus (test/verifier/cases, each case's verdict
 * taken from the running kernel): the same accept/reject decision, and for
 * refusals the same blamed instruction. Prints the agreement per group and
 * every disagreement; fails on any verdict difference not in the known list
 * (and on a known one that went away), and on a crash of the verifier itself.
 */
import { describe, expect, it } from 'vitest';
import { verifyProgram } from '../../offload/verifier/verifier.js';
import { GROUPS, caseObject, loadCases } from './case-loader.js';

/**
 * The cases whose verdict we know to differ from the kernel's, and why. Any other difference fails
 * the test, and so does one of these agreeing (then it comes off the list).
 */
const KNOWN_VERDICT_DIFFERENCES: Readonly<Record<string, string>> = {};

describe('verifier agrees with the kernel on the case corpus', () => {
  const cases = loadCases();
  it(`decides like the kernel on ${cases.length} cases`, () => {
    const byGroup = new Map<string, { n: number; verdict: number; insn: number }>();
    const disagreements: string[] = [];
    const verdictDiffs: string[] = [];
    const crashes: string[] = [];
    for (const c of cases) {
      const { object, program } = caseObject(c);
      let r: ReturnType<typeof verifyProgram>;
      try {
        r = verifyProgram(program, object.maps, {
          privileged: c.privileged, gplCompatible: /GPL/.test(c.license), attach: program.type.attach ?? 'XDP',
        });
      } catch (e) {
        crashes.push(`${c.group}/${c.name}: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
        continue;
      }
      const g = byGroup.get(c.group) ?? { n: 0, verdict: 0, insn: 0 };
      g.n++;
      const wantAccept = c.expect === 'accept';
      if (r.ok === wantAccept) {
        g.verdict++;
        // The kernel names no instruction (-1) for what its structure checks find before the walk.
        const sameInsn = wantAccept || (typeof c.expect !== 'string' &&
          (r.error!.insn === c.expect.reject.insn || (c.expect.reject.insn === -1 && r.error!.pass === 'structure')));
        if (sameInsn) g.insn++;
        else disagreements.push(`${c.group}/${c.name}: both refuse, kernel blames insn ${(c.expect as { reject: { insn: number } }).reject.insn}, we blame ${r.error!.insn} (${r.error!.message.split('\n')[0]})`);
      } else {
        verdictDiffs.push(`${c.group}/${c.name}`);
        disagreements.push(`${c.group}/${c.name}: kernel ${wantAccept ? 'accepts' : `refuses at ${(c.expect as { reject: { insn: number; message: string } }).reject.insn} (${(c.expect as { reject: { message: string } }).reject.message})`}, we ${r.ok ? 'accept' : `refuse at ${r.error!.insn} (${r.error!.message.split('\n')[0]})`}`);
      }
      byGroup.set(c.group, g);
    }
    const total = [...byGroup.values()].reduce((a, g) => ({ n: a.n + g.n, verdict: a.verdict + g.verdict, insn: a.insn + g.insn }), { n: 0, verdict: 0, insn: 0 });
    console.log([
      'group          cases  same verdict  same verdict and insn',
      ...GROUPS.filter((g) => byGroup.has(g)).map((g) => {
        const s = byGroup.get(g)!;
        return `${g.padEnd(14)} ${String(s.n).padStart(5)}  ${String(s.verdict).padStart(12)}  ${String(s.insn).padStart(21)}`;
      }),
      `${'all'.padEnd(14)} ${String(total.n).padStart(5)}  ${String(total.verdict).padStart(12)}  ${String(total.insn).padStart(21)}` +
        `   (${((100 * total.verdict) / total.n).toFixed(1)}% / ${((100 * total.insn) / total.n).toFixed(1)}%)`,
      'disagreements:', ...disagreements.map((d) => `  ${d}`),
    ].join('\n'));
    expect(crashes).toEqual([]);
    expect(verdictDiffs.sort()).toEqual(Object.keys(KNOWN_VERDICT_DIFFERENCES).sort());
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceProgram, parseConformanceFile, type ConformanceCase } from '../../xdp/asm/conformance.js';
import { kindOf } from '../../xdp/isa/kind.js';
import { ENGINE_NAMES, type EngineName } from '../../xdp/runtime/engine.js';
import { ExecFault } from '../../xdp/runtime/vm.js';
import { SHARED, sharedExists } from '../support/paths.js';
import { runConformanceOnHost } from '../support/conformance-host.js';

const DIR = join(SHARED, 'conformance');
const HAVE = sharedExists('conformance');
if (!HAVE) console.log(`SKIP conformance suite: ${DIR} is absent`);

/** Why a case cannot run here, or undefined. */
function exclusion(c: ConformanceCase): string | undefined {
  const insns = conformanceProgram(c);
  if (insns.some((i) => { const k = kindOf(i); return k.k === 'call' && k.target === 'reg'; })) {
    return 'callx (call by register) is not defined by RFC 9669 and the kernel refuses it';
  }
  if (c.result === undefined) return 'no expected result';
  return undefined;
}

const run = (c: ConformanceCase, engine: EngineName): bigint => runConformanceOnHost(c, engine);

describe.runIf(HAVE)('bpf_conformance suite in both host engines', () => {
  const files = HAVE ? readdirSync(DIR).filter((f) => f.endsWith('.data')).sort() : [];
  const cases = files.map((f) => parseConformanceFile(readFileSync(join(DIR, f), 'utf8'), f));
  const excluded = cases.map((c) => [c.file, exclusion(c)] as const).filter(([, why]) => why !== undefined);
  const runnable = cases.filter((c) => exclusion(c) === undefined);

  for (const engine of ENGINE_NAMES) {
    it(`${engine}: every applicable program returns the expected r0`, () => {
      const failures: string[] = [];
      for (const c of runnable) {
        try {
          const got = run(c, engine);
          if (got !== c.result) failures.push(`${c.file}: r0 = 0x${got.toString(16)}, expected 0x${c.result!.toString(16)}`);
        } catch (e) {
          failures.push(`${c.file}: ${e instanceof ExecFault ? e.message : String(e)}`);
        }
      }
      console.log(`conformance (${engine}): ${runnable.length - failures.length} of ${cases.length} pass; ${excluded.length} excluded:\n` +
        excluded.map(([f, why]) => `  ${f}: ${why}`).join('\n'));
      expect(failures).toEqual([]);
    });
  }
});

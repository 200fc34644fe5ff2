/**
 * `npm run bench:verifier`: verification time of every fixture program in our
 * verifier next to the running kernel's own figure for the same program (the
 * "verification time N usec" of its log, from BPF_PROG_LOAD), in one run, with
 * the ratio and the processed-instruction counts of both.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kernelAvailable } from '../xdp/kernel/kernel-oracle.js';
import { loadObjectFile } from '../xdp/object/load-object.js';
import { verifyProgram } from '../offload/verifier/verifier.js';
import { kernelVerifyTime } from './lib/kernel-verify.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const OBJ = join(ROOT, 'fixtures', 'obj');

/** Best of a few runs of our verifier, in ms (one run when it is slow). */
function ours(run: () => { timeNs: number }): number {
  let best = Infinity;
  const started = performance.now();
  for (let i = 0; i < 5; i++) {
    best = Math.min(best, run().timeNs / 1e6);
    if (performance.now() - started > 2000) break;
  }
  return best;
}

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`kernel: not measured (${kernel.reason})`);
console.log('fixture                     program                     ours ms  kernel ms   ratio   ours insns  kernel insns  verdicts');
let largest = { insns: 0, line: '' };
for (const file of readdirSync(OBJ).filter((f) => f.endsWith('.o')).sort()) {
  const obj = loadObjectFile(join(OBJ, file));
  for (const program of obj.programs) {
    let result = verifyProgram(program, obj.maps);
    const ms = ours(() => (result = verifyProgram(program, obj.maps)));
    const k = kernel.ok ? kernelVerifyTime(obj, program, { rounds: 3 }) : undefined;
    const kms = k?.verifierUsec !== undefined ? k.verifierUsec / 1000 : undefined;
    const ratio = kms ? `${(ms / kms).toFixed(2)}x` : '-';
    const line = `${file.padEnd(27)} ${program.name.padEnd(27)} ${ms.toFixed(2).padStart(8)} ${kms === undefined ? '-'.padStart(10) : kms.toFixed(2).padStart(10)} ${ratio.padStart(7)} ` +
      `${String(result.stats.processed).padStart(12)} ${String(k?.processed ?? '-').padStart(13)}  ${result.ok ? 'accept' : 'reject'}/${k ? (k.accepted ? 'accept' : 'reject') : '-'}`;
    console.log(line);
    if (program.insns.length > largest.insns) largest = { insns: program.insns.length, line };
  }
}
console.log(`largest fixture (${largest.insns} instructions):\n${largest.line}`);

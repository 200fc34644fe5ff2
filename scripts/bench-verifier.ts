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

/**
 * Our time for one program: the first verification in this process (what one `offload check`
 * pays, JavaScript compilation included) and the steady state (median of runs after warming up).
 */
function ours(run: () => { timeNs: number }): { first: number; warm: number } {
  const first = run().timeNs / 1e6;
  const started = performance.now();
  for (let i = 0; i < 2000 && performance.now() - started < 1000; i++) run();
  const times: number[] = [];
  const measured = performance.now();
  for (let i = 0; i < 31 && (i < 3 || performance.now() - measured < 1500); i++) times.push(run().timeNs / 1e6);
  times.sort((a, b) => a - b);
  return { first, warm: times[times.length >> 1]! };
}

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`kernel: not measured (${kernel.reason})`);
console.log('fixture                   program                   first ms  warm ms  kernel ms  warm/kernel  first/kernel  ours insns  kernel insns  verdicts');
let largest = { insns: 0, line: '' };
let heaviest = { processed: 0, line: '' };
let slowest = { ms: 0, line: '' };
for (const file of readdirSync(OBJ).filter((f) => f.endsWith('.o')).sort()) {
  const obj = loadObjectFile(join(OBJ, file));
  for (const program of obj.programs) {
    let result = verifyProgram(program, obj.maps);
    const ms = ours(() => (result = verifyProgram(program, obj.maps)));
    const k = kernel.ok ? kernelVerifyTime(obj, program, { rounds: 3 }) : undefined;
    const kms = k?.verifierUsec !== undefined ? k.verifierUsec / 1000 : undefined;
    const ratio = (v: number) => (kms ? `${(v / kms).toFixed(2)}x` : '-');
    const line = `${file.padEnd(25)} ${program.name.padEnd(25)} ${ms.first.toFixed(2).padStart(8)} ${ms.warm.toFixed(2).padStart(8)} ${kms === undefined ? '-'.padStart(10) : kms.toFixed(2).padStart(10)} ${ratio(ms.warm).padStart(12)} ${ratio(ms.first).padStart(13)} ` +
      `${String(result.stats.processed).padStart(11)} ${String(k?.processed ?? '-').padStart(13)}  ${result.ok ? 'accept' : 'reject'}/${k ? (k.accepted ? 'accept' : 'reject') : '-'}`;
    console.log(line);
    if (program.insns.length > largest.insns) largest = { insns: program.insns.length, line };
    if (result.ok && result.stats.processed > heaviest.processed) heaviest = { processed: result.stats.processed, line };
    if (ms.first > slowest.ms) slowest = { ms: ms.first, line };
  }
}
console.log(`\nlargest fixture (${largest.insns} instructions):\n${largest.line}`);
console.log(`most instructions processed by an accepted fixture (${heaviest.processed}):\n${heaviest.line}`);
console.log(`slowest first run (${slowest.ms.toFixed(2)} ms; target: no fixture over 100 ms):\n${slowest.line}`);

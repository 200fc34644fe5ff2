/**
 * Our verifier on every fixture program, against what the running kernel
 * decided (docs/fixtures.md records it; the kernel-oracle tests re-check it):
 * the accepted ones load, the three reject_* programs are refused at the
 * instruction the kernel blames, for the same reason.
 */
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadObjectFile } from '../../xdp/object/load-object.js';
import { verifyProgram } from '../../offload/verifier/verifier.js';
import { fixtureObjects } from '../support/paths.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { loadProgramIntoKernel } from '../../xdp/kernel/load-program.js';
import { runningKernelFunctions } from '../../offload/verifier/kfunc-protos.js';
import type { Program } from '../../xdp/object/bpf-object.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`verifier-fixtures: processed-instruction counts not compared with the kernel (${kernel.reason})`);

/** The kernel's verdicts on the refused fixtures: blamed instruction and a piece of its message. */
const REFUSED: Readonly<Record<string, { insn: number; message: RegExp }>> = {
  xdp_reject_unchecked_read: { insn: 1, message: /invalid access to packet, off=12 size=1/ },
  xdp_reject_uninit_stack: { insn: 7, message: /R1 invalid mem access 'scalar'/ },
  xdp_spin_until_resumed: { insn: 12, message: /infinite loop detected at insn 12/ },
  // The budget runs out after insn 13, the last one the kernel's log shows.
  xdp_repeat_from_packet: { insn: 13, message: /BPF program is too large. Processed 1000001 insn/ },
};

/** Kfuncs a program calls that the running kernel lacks: libbpf refuses such an object before loading it. */
const kernelFuncs = runningKernelFunctions();
const missingKfuncs = (p: Program): string[] =>
  kernelFuncs ? (p.kfuncs ?? []).filter((k) => !k.weak && !kernelFuncs.proto(k.name)).map((k) => k.name) : [];

describe('verifier on the fixtures', () => {
  for (const path of fixtureObjects()) {
    const obj = loadObjectFile(path);
    for (const program of obj.programs) {
      it(`${basename(path)} ${program.name}`, () => {
        const r = verifyProgram(program, obj.maps);
        const missing = missingKfuncs(program);
        if (missing.length > 0) {
          expect(r.error?.message).toBe(`extern (func ksym) '${missing[0]}': not found in kernel or module BTFs`);
          return;
        }
        const expected = REFUSED[program.name];
        if (expected) {
          expect(r.ok).toBe(false);
          expect(r.error!.message).toMatch(expected.message);
          if (expected.insn >= 0) expect(r.error!.insn).toBe(expected.insn);
        } else {
          expect(r.error?.message ?? '', `insn ${r.error?.insn}`).toBe('');
          expect(r.ok).toBe(true);
        }
      });
    }
  }
});

/**
 * The same walk as the kernel's: on every fixture, accepted or refused, our summary line equals the
 * kernel's — instructions processed, max_states_per_insn, total_states, peak_states (pruning,
 * precision, read marks, linked scalars, checkpoint placement and eviction all show in it; without
 * precision tracking ipv6_ext_walk took 286,556 instructions to the kernel's 16,454).
 */
describe.skipIf(!kernel.ok)('the summary line, against the kernel', () => {
  for (const path of fixtureObjects()) {
    const obj = loadObjectFile(path);
    for (const program of obj.programs) {
      const missing = missingKfuncs(program);
      it.skipIf(missing.length > 0)(`${basename(path)} ${program.name}${missing.length ? ` (skipped: this kernel lacks ${missing.join(', ')}, so no loader gets it to the kernel)` : ''}`, () => {
        let log = '';
        try {
          const loaded = loadProgramIntoKernel(obj, program, { logLevel: 4 });
          log = loaded.log;
          loaded.close();
        } catch (e) {
          log = (e as { log?: string }).log ?? '';
        }
        const theirs = /processed \d+ insns .*/.exec(log)?.[0];
        expect(theirs, 'the kernel\'s statistics line').toBeDefined();
        expect(verifyProgram(program, obj.maps).log.trim()).toBe(theirs!.trim());
      });
    }
  }
});

/**
 * The log as the kernel writes it: for the refused fixtures (whose level-1 log the kernel keeps,
 * the failing path only), our level-1 log has the same lines in the same order — instruction in
 * the kernel's notation, the registers it touched, the state a popped branch starts from — except
 * that a map's lddw shows its name where the kernel shows an address.
 */
describe.skipIf(!kernel.ok)('level-1 log, line for line', () => {
  const walkLines = (log: string): string[] => log.split('\n').filter((l) => /^\d+: \(/.test(l)).map((l) => l.trimEnd());
  for (const path of fixtureObjects()) {
    const obj = loadObjectFile(path);
    for (const program of obj.programs) {
      if (!REFUSED[program.name] || program.name === 'xdp_repeat_from_packet') continue;
      it(`${basename(path)} ${program.name}`, () => {
        let log = '';
        try {
          loadProgramIntoKernel(obj, program, { logLevel: 1, logSize: 1 << 22 }).close();
        } catch (e) {
          log = (e as { log?: string }).log ?? '';
        }
        const theirs = walkLines(log);
        const ours = walkLines(verifyProgram(program, obj.maps, { logLevel: 1 }).log);
        expect(theirs.length).toBeGreaterThan(0);
        expect(ours.length).toBe(theirs.length);
        ours.forEach((line, i) => {
          if (/^\d+: \(18\) r\d+ = map\[/.test(line)) expect(theirs[i]!.split(' = ')[0]).toBe(line.split(' = ')[0]);
          else expect(line).toBe(theirs[i]);
        });
      });
    }
  }
});

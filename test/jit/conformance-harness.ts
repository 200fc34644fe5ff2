/**
 * The bpf_conformance suite (../shared/conformance/*.data) on the card: read the
 * cases, translate each program with the JIT (`untypedMemory: 'ctm'`: the suite's
 * programs are never verified, so their memory is the card's packet memory), run a
 * translated program on the card's executor, and run the same case on the host's
 * reference interpreter (xdp/runtime, engine `interp`) exactly as
 * test/runtime/conformance.test.ts does.
 *
 * Entry registers, on both sides (the host runner's convention): r1 points at the
 * case's `-- mem` bytes when it has any (0 otherwise), r2 is their length, every
 * other register is 0 and r10 is the stack's top. On the card the bytes live in CTM
 * at MEM_ADDR and r1 is that CTM address (pointers are the low word, docs/nic-image.md);
 * on the host they are a memory region and r1 is the host's pointer to it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../nic-sim/core/run.js';
import { createCoreState } from '../../nic-sim/core/state.js';
import { JitError, recordsFromInsns, translate, type CardProgram } from '../../offload/jit/translate.js';
import { conformanceProgram, parseConformanceFile, type ConformanceCase } from '../../xdp/asm/conformance.js';
import type { Insn } from '../../xdp/isa/insn.js';
import { SHARED, sharedExists } from '../support/paths.js';
import { runConformanceOnHost } from '../support/conformance-host.js';

export const CONFORMANCE_DIR = join(SHARED, 'conformance');
/** Why the suite cannot run here, or undefined when it can. */
export const conformanceAbsent = (): string | undefined =>
  sharedExists('conformance') ? undefined : `the bpf_conformance suite (${CONFORMANCE_DIR}) is absent`;

/** Every `.data` file of the suite, parsed, in file-name order. */
export function loadConformanceCases(): ConformanceCase[] {
  return readdirSync(CONFORMANCE_DIR).filter((f) => f.endsWith('.data')).sort()
    .map((f) => parseConformanceFile(readFileSync(join(CONFORMANCE_DIR, f), 'utf8'), f));
}

/** CTM byte address of the case's memory on the card (away from 0, so a NULL access is not the memory). */
export const MEM_ADDR = 0x100;
/** CTM size on the card: 64 KiB, far more than any case's memory. */
export const CTM_BYTES = 0x10000;

/** r0 of the case on the host's reference interpreter. */
export const runHostCase = (c: ConformanceCase, insns: readonly Insn[] = conformanceProgram(c)): bigint =>
  runConformanceOnHost(c, 'interp', insns);

export type Translation =
  | { readonly k: 'translated'; readonly program: CardProgram }
  | { readonly k: 'refused'; readonly error: JitError };

/** Translate the case's program for the card; a JitError is a refusal, anything else is thrown. */
export function translateCase(insns: readonly Insn[]): Translation {
  try {
    return { k: 'translated', program: translate(recordsFromInsns(insns), { untypedMemory: 'ctm' }) };
  } catch (e) {
    if (e instanceof JitError) return { k: 'refused', error: e };
    throw e;
  }
}

/**
 * A refusal's reason with the details that vary between programs folded (register
 * numbers, shift amounts, offsets, access sizes), so that refusals group by cause.
 */
export function refusalGroup(e: JitError): string {
  const reason = e.reason
    .replace(/\br\d+([+-]\d+)?\b/g, 'rN')
    .replace(/\b(by|at) -?(0x[0-9a-f]+|\d+)\b/gi, '$1 N')
    .replace(/\(\d+ bytes\)/g, '(N bytes)');
  return `${e.kind}: ${reason}`;
}

export interface CardCaseRun {
  /** r0: gprB_0 (low) and gprB_1 (high). */
  readonly r0: bigint;
  /** The case's memory as the run left it. */
  readonly ctm: Uint8Array;
  readonly steps: number;
}

/** Run the translated case on the card's executor (a CoreError propagates). */
export function runCardCase(c: ConformanceCase, program: CardProgram): CardCaseRun {
  const ctm = new Uint8Array(CTM_BYTES);
  const mem = c.mem ?? new Uint8Array(0);
  ctm.set(mem, MEM_ADDR);
  const s = createCoreState({ mem: { ctm } });
  const set = (reg: number, lo: number, hi: number): void => {
    s.gprA[2 * reg] = s.gprB[2 * reg] = lo >>> 0;
    s.gprA[2 * reg + 1] = s.gprB[2 * reg + 1] = hi >>> 0;
  };
  if (mem.length > 0) set(1, MEM_ADDR, 0);
  set(2, mem.length, 0);
  const res = run(program.insns, s, { endPc: program.endPc });
  const r0 = (BigInt(s.gprB[1]!) << 32n) | BigInt(s.gprB[0]!);
  return { r0, ctm, steps: res.counters.steps };
}

export const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

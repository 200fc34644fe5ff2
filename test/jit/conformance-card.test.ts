/**
 * The bpf_conformance suite (../shared/conformance/*.data) on the card. Every case
 * with a program and an expected `-- result` (cases with `-- error` are left out) is
 * translated by the JIT with `untypedMemory: 'ctm'` (the suite's programs are never
 * verified: their memory is the packet memory, CTM). A refusal (`JitError`) means
 * the program does not fit the card and is counted under its reason; a translated
 * program runs on the card's executor and its 64-bit r0 (gprB_0 / gprB_1) must equal
 * the case's expected result and the host interpreter's r0 for the same case. A card
 * error (CoreError: memory outside CTM, the step limit, …) is a failure. Entry
 * registers mirror the host runner (test/runtime/conformance.test.ts): r1 points at
 * the `-- mem` bytes when there are any, r2 is their length (test/jit/conformance-harness.ts).
 *
 * The summary test prints the table (cases, translated, identical, refusals by
 * reason) and fails when fewer programs translate than MIN_TRANSLATED, so that a
 * change that refuses more of the suite is noticed.
 */
import { describe, expect, it } from 'vitest';
import { conformanceProgram, type ConformanceCase } from '../../xdp/asm/conformance.js';
import type { Insn } from '../../xdp/isa/insn.js';
import {
  CONFORMANCE_DIR, conformanceAbsent, hex, loadConformanceCases, refusalGroup, runCardCase, runHostCase, translateCase,
  type Translation,
} from './conformance-harness.js';

/** Translated programs observed (of 313 cases); fewer is a regression. */
const MIN_TRANSLATED = 199;

/**
 * Cases where the card disagrees with the host because of a JIT bug that is not
 * fixed yet: each runs as `it.fails` (so it fails again, loudly, once fixed).
 */
const KNOWN_JIT_BUGS: Readonly<Record<string, string>> = {};

const absent = conformanceAbsent();
if (absent) console.log(`SKIP bpf_conformance on the card: ${absent}`);

interface Prepared {
  readonly c: ConformanceCase;
  readonly insns: Insn[];
  readonly t: Translation;
}

/** The cases this file is about: a program and an expected result, no expected error. */
const applicable = (c: ConformanceCase): boolean => c.result !== undefined && c.error === undefined;

const all: ConformanceCase[] = absent ? [] : loadConformanceCases();
const prepared: Prepared[] = all.filter(applicable).map((c) => {
  const insns = conformanceProgram(c);
  return { c, insns, t: translateCase(insns) };
});
const translated = prepared.filter((p) => p.t.k === 'translated');

type Outcome = { readonly k: 'ok'; readonly card: bigint; readonly host: bigint } | { readonly k: 'error'; readonly what: string };

/** Run one translated case on both sides; a card or host error is reported as text with the other side's r0. */
function runBoth(p: Prepared): Outcome {
  if (p.t.k !== 'translated') throw new Error(`${p.c.file} was not translated`);
  let host: bigint;
  try {
    host = runHostCase(p.c, p.insns);
  } catch (e) {
    return { k: 'error', what: `host error: ${e instanceof Error ? e.message : String(e)}` };
  }
  try {
    return { k: 'ok', card: runCardCase(p.c, p.t.program).r0, host };
  } catch (e) {
    return { k: 'error', what: `card error: ${e instanceof Error ? e.message : String(e)} (host r0 = ${hex(host)})` };
  }
}

const describeLine = (p: Prepared, o: Outcome): string =>
  o.k === 'error'
    ? `${p.c.file}: ${o.what}, expected ${hex(p.c.result!)}`
    : `${p.c.file}: card r0 = ${hex(o.card)}, host r0 = ${hex(o.host)}, expected ${hex(p.c.result!)}`;

describe.skipIf(absent !== undefined)(`bpf_conformance on the card${absent ? ` (skipped: ${absent})` : ''}`, () => {
  for (const p of translated) {
    const bug = KNOWN_JIT_BUGS[p.c.file];
    const test = bug === undefined ? it : it.fails;
    test(bug === undefined ? p.c.file : `${p.c.file} (known JIT bug: ${bug})`, () => {
      const o = runBoth(p);
      if (o.k === 'error') expect.fail(describeLine(p, o));
      const msg = describeLine(p, o);
      expect(hex(o.card), msg).toBe(hex(p.c.result!));
      expect(hex(o.card), msg).toBe(hex(o.host));
    });
  }

  it('summary: cases, translated and identical, refused by reason', () => {
    const refusals = new Map<string, string[]>();
    for (const p of prepared) {
      if (p.t.k !== 'refused') continue;
      const g = refusalGroup(p.t.error);
      refusals.set(g, [...(refusals.get(g) ?? []), p.c.file]);
    }
    const disagreements: string[] = [];
    let identical = 0;
    for (const p of translated) {
      const o = runBoth(p);
      if (o.k === 'ok' && o.card === p.c.result && o.card === o.host) identical++;
      else disagreements.push(describeLine(p, o));
    }
    const refused = prepared.length - translated.length;
    const rows = [...refusals].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
    const w = Math.max(...rows.map(([g]) => g.length), 30);
    console.log([
      `bpf_conformance on the card (${CONFORMANCE_DIR})`,
      `  cases                              ${String(all.length).padStart(4)}`,
      `  with a program and a result        ${String(prepared.length).padStart(4)}`,
      `  translated                         ${String(translated.length).padStart(4)}`,
      `    identical (card = host = result) ${String(identical).padStart(4)}`,
      `    disagreeing or failing           ${String(disagreements.length).padStart(4)}`,
      `  refused (does not fit the card)    ${String(refused).padStart(4)}`,
      ...rows.map(([g, files]) => `    ${String(files.length).padStart(3)}  ${g.padEnd(w)}  ${files.join(', ')}`),
      ...(disagreements.length ? ['  disagreements:', ...disagreements.map((d) => `    ${d}`)] : []),
    ].join('\n'));

    expect(prepared.length).toBeGreaterThan(0);
    expect(translated.length, `translated ${translated.length} of ${prepared.length}`).toBeGreaterThanOrEqual(MIN_TRANSLATED);
    // Every entry of the known-bug list must still name a translated case (a stale entry is noticed).
    for (const file of Object.keys(KNOWN_JIT_BUGS)) expect(translated.map((p) => p.c.file), file).toContain(file);
  });
});

/**
 * `npm run verify:kernel`: our verifier against the running kernel's.
 *
 * Every XDP program of every fixture object (fixtures/obj/*.o) and every
 * verifier test case (test/verifier/cases/*.json) is verified twice — by
 * BPF_PROG_LOAD and by offload/verifier — and the verdicts compared: per group
 * (and "fixtures") the kernel's and our accept/reject counts, the agreement,
 * and for programs both refuse whether the same instruction is blamed and the
 * kernel's message is found in ours; then every disagreement, and per fixture
 * the kernel's verification time next to ours.
 *
 * Options:
 *   --group G[,G]   only these case groups ("fixtures" for the objects)
 *   --case TEXT     only cases (and fixture programs) whose name contains TEXT
 *   --log           print both logs for every disagreement
 *   --strict        exit 1 when any verdict or blamed instruction disagrees
 *   --json FILE     also write the per-program results as JSON
 *   --rounds N      time each fixture program N times, both verifiers, keep the best (default 3)
 *   --timeout S     give our verifier at most S seconds per program (default 120);
 *                   it runs in a worker thread, so a hang is reported, not waited for
 *
 * Without the kernel (no bpf(), not root) the cases' recorded expectations
 * stand in for the kernel's verdicts, fixtures are compared with nothing, and
 * the table says so.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { basename, join, resolve } from 'node:path';
import { kernelAvailable } from '../xdp/kernel/kernel-oracle.js';
import { kernelVerdict, type KernelVerdict } from '../xdp/kernel/load-program.js';
import { UnsupportedError } from '../xdp/errors.js';
import { findPrograms, loadObjectFile } from '../xdp/object/load-object.js';
import type { MapDef, Program } from '../xdp/object/bpf-object.js';
import { verifyProgram, type VerifyResult } from '../offload/verifier/verifier.js';
import { caseObject, GROUPS, loadCases, type CaseExpect } from '../test/verifier/case-loader.js';
import { kernelVerifyTime, type KernelVerifyTime } from './lib/kernel-verify.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'fixtures', 'obj');

interface Args {
  groups?: Set<string>;
  match?: string;
  log: boolean;
  strict: boolean;
  json?: string;
  timeoutMs: number;
  rounds: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { log: false, strict: false, timeoutMs: 120_000, rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!;
    const next = (): string => {
      const n = argv[++i];
      if (n === undefined) throw new Error(`${v} needs a value`);
      return n;
    };
    if (v === '--group') a.groups = new Set(next().split(','));
    else if (v === '--case') a.match = next();
    else if (v === '--log') a.log = true;
    else if (v === '--strict') a.strict = true;
    else if (v === '--json') a.json = next();
    else if (v === '--timeout') a.timeoutMs = Number(next()) * 1000;
    else if (v === '--rounds') a.rounds = Math.max(1, Number(next()));
    else if (v === '--help' || v === '-h') {
      console.log('usage: verify-kernel [--group G[,G]] [--case TEXT] [--log] [--strict] [--json FILE] [--rounds N] [--timeout S]');
      process.exit(0);
    } else throw new Error(`unknown option ${v}`);
  }
  return a;
}

/** A verdict, from either side: accepted, or refused at an instruction with a message. */
interface Verdict {
  readonly ok: boolean;
  /** -1: the kernel's log names no instruction. */
  readonly insn?: number;
  readonly message?: string;
  readonly log?: string;
  /** Our verifier threw instead of answering. */
  readonly crashed?: boolean;
}

interface Row {
  readonly group: string;
  readonly name: string;
  readonly privileged: boolean;
  readonly kernel: Verdict | undefined;
  /** Where the kernel column came from. */
  readonly kernelSource: 'kernel' | 'recorded' | 'none';
  readonly ours: Verdict;
  readonly ourTimeNs: number;
  readonly kernelTime?: KernelVerifyTime;
}

const fromKernel = (v: KernelVerdict): Verdict => (v.accepted
  ? { ok: true, log: v.log }
  : { ok: false, insn: v.rejection?.insn ?? -1, message: v.rejection?.message ?? v.errno ?? '', log: v.log });

const fromExpect = (e: CaseExpect): Verdict => (e === 'accept' ? { ok: true } : { ok: false, insn: e.reject.insn, message: e.reject.message });

/** license_is_gpl_compatible (include/linux/license.h). */
const GPL_COMPATIBLE = new Set(['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL']);

interface Job {
  readonly program: Program;
  readonly maps: readonly MapDef[];
  readonly privileged: boolean;
  readonly gplCompatible: boolean;
}
type JobAnswer = { ok: true; result: Pick<VerifyResult, 'ok' | 'error' | 'log' | 'timeNs'> } | { ok: false; error: string };
const KEEP_LOG = 64 << 10;

/** The worker's side: verify each program it is sent. */
function workerLoop(): void {
  parentPort!.on('message', (job: Job) => {
    let answer: JobAnswer;
    try {
      const r = verifyProgram(job.program, job.maps, { privileged: job.privileged, logLevel: 1, gplCompatible: job.gplCompatible });
      answer = { ok: true, result: { ok: r.ok, ...(r.error ? { error: r.error } : {}), log: r.log.slice(-KEEP_LOG), timeNs: r.timeNs } };
    } catch (e) {
      answer = { ok: false, error: (e as Error).stack ?? String(e) };
    }
    parentPort!.postMessage(answer);
  });
}

/** Our verifier in a worker thread, restarted after a program that does not finish in time. */
class OurVerifier {
  private worker: Worker | undefined;
  constructor(private readonly timeoutMs: number) {}

  async verify(program: Program, maps: readonly MapDef[], privileged: boolean, license: string | undefined): Promise<{ v: Verdict; timeNs: number }> {
    const worker = (this.worker ??= new Worker(new URL(import.meta.url)));
    const job: Job = { program, maps, privileged, gplCompatible: GPL_COMPATIBLE.has(license ?? '') };
    const t0 = process.hrtime.bigint();
    const answer = await new Promise<JobAnswer | 'timeout'>((done, fail) => {
      const timer = setTimeout(() => done('timeout'), this.timeoutMs);
      const onError = (e: Error): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        fail(e);
      };
      const onMessage = (a: JobAnswer): void => {
        clearTimeout(timer);
        worker.off('error', onError);
        done(a);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.postMessage(job);
    }).catch((e: Error): JobAnswer => {
      this.worker = undefined;
      return { ok: false, error: `the worker died: ${e.stack ?? e.message}` };
    });
    const wallNs = Number(process.hrtime.bigint() - t0);
    if (answer === 'timeout') {
      await this.worker?.terminate();
      this.worker = undefined;
      return { v: { ok: false, crashed: true, insn: -2, message: `no answer within ${this.timeoutMs / 1000} s` }, timeNs: wallNs };
    }
    if (!answer.ok) return { v: { ok: false, crashed: true, insn: -2, message: `threw ${answer.error}` }, timeNs: wallNs };
    const r = answer.result;
    return {
      v: r.ok ? { ok: true, log: r.log } : { ok: false, insn: r.error?.insn ?? -1, message: r.error?.message ?? '', log: r.log },
      timeNs: r.timeNs,
    };
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = undefined;
  }
}

// ---------------------------------------------------------------- comparison

const agrees = (k: Verdict | undefined, o: Verdict): boolean => k !== undefined && !o.crashed && k.ok === o.ok;
/** Both refuse: same instruction? undefined when the kernel names none. */
const sameInsn = (k: Verdict, o: Verdict): boolean | undefined => (k.insn === undefined || k.insn < 0 ? undefined : k.insn === o.insn);
/** Both refuse: does our message contain the kernel's first error line (or the recorded expectation)? */
const sameMessage = (k: Verdict, o: Verdict): boolean => {
  const want = (k.message ?? '').split(' / ')[0]!;
  return want !== '' && (o.message ?? '').includes(want);
};

function pct(n: number, d: number): string {
  return d === 0 ? '-' : `${((100 * n) / d).toFixed(d === n ? 0 : 1)}%`;
}

function table(rows: readonly Row[]): void {
  const header = ['group', 'programs', 'kernel acc/rej', 'ours acc/rej', 'agree', 'same insn', 'same msg'];
  const lines: string[][] = [];
  const groups = [...new Set(rows.map((r) => r.group))];
  const add = (label: string, rs: readonly Row[]): void => {
    const compared = rs.filter((r) => r.kernel !== undefined);
    const kAcc = compared.filter((r) => r.kernel!.ok).length;
    const oAcc = rs.filter((r) => r.ours.ok).length;
    const crashed = rs.filter((r) => r.ours.crashed).length;
    const agree = compared.filter((r) => agrees(r.kernel, r.ours)).length;
    const bothRej = compared.filter((r) => !r.kernel!.ok && !r.ours.ok && !r.ours.crashed);
    const named = bothRej.filter((r) => sameInsn(r.kernel!, r.ours) !== undefined);
    const insnOk = named.filter((r) => sameInsn(r.kernel!, r.ours) === true).length;
    const msgOk = bothRej.filter((r) => sameMessage(r.kernel!, r.ours)).length;
    lines.push([
      label, String(rs.length),
      compared.length ? `${kAcc}/${compared.length - kAcc}` : 'n/a',
      `${oAcc}/${rs.length - oAcc}${crashed ? ` (${crashed} no verdict)` : ''}`,
      compared.length ? `${pct(agree, compared.length)} (${agree}/${compared.length})` : 'n/a',
      named.length ? `${insnOk}/${named.length}${bothRej.length > named.length ? ` +${bothRej.length - named.length} n/a` : ''}` : bothRej.length ? `${bothRej.length} n/a` : '-',
      bothRej.length ? `${msgOk}/${bothRej.length}` : '-',
    ]);
  };
  for (const g of groups) add(g, rows.filter((r) => r.group === g));
  add('all cases', rows.filter((r) => r.group !== 'fixtures'));
  add('all', rows);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) {
    if (l[0] === 'all cases') console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    console.log(fmt(l));
  }
}

function describeVerdict(v: Verdict | undefined): string {
  if (!v) return 'n/a';
  if (v.ok) return 'accept';
  if (v.crashed) return `NO VERDICT: ${(v.message ?? '').split('\n').slice(0, 3).join(' | ')}`;
  return `reject at ${v.insn === -1 ? '(no insn)' : `insn ${v.insn}`}: ${(v.message ?? '').split(' / ')[0]}`;
}

function disagreements(rows: readonly Row[], showLog: boolean): number {
  const bad = rows.filter((r) => r.kernel !== undefined && (!agrees(r.kernel, r.ours)
    || (!r.kernel.ok && sameInsn(r.kernel, r.ours) === false)));
  console.log(`\ndisagreements: ${bad.length}`);
  for (const r of bad) {
    const kind = !agrees(r.kernel, r.ours) ? 'verdict' : 'blamed insn';
    console.log(`  [${r.group}] ${r.name}${r.privileged ? '' : ' (unprivileged)'} — ${kind}`);
    console.log(`      kernel: ${describeVerdict(r.kernel)}`);
    console.log(`      ours:   ${describeVerdict(r.ours)}`);
    if (showLog) {
      const tail = (s: string | undefined) => (s ?? '').trimEnd().split('\n').slice(-15).map((l) => `        | ${l}`).join('\n');
      if (r.kernel?.log) console.log(`      kernel log (end):\n${tail(r.kernel.log)}`);
      if (r.ours.log) console.log(`      our log (end):\n${tail(r.ours.log)}`);
    }
  }
  const msg = rows.filter((r) => r.kernel && !r.kernel.ok && !r.ours.ok && !r.ours.crashed && !sameMessage(r.kernel, r.ours));
  if (msg.length > 0) {
    console.log(`\nrefused by both, kernel message not found in ours: ${msg.length}`);
    for (const r of msg) {
      console.log(`  [${r.group}] ${r.name}\n      kernel: ${(r.kernel!.message ?? '').split(' / ')[0]}\n      ours:   ${r.ours.message}`);
    }
  }
  return bad.length;
}

function timings(rows: readonly Row[]): void {
  const fx = rows.filter((r) => r.group === 'fixtures');
  if (fx.length === 0) return;
  console.log('\nverification time per fixture program (kernel: "verification time" of its BPF_LOG_STATS log, and wall time of BPF_PROG_LOAD)');
  const head = ['program', 'kernel µs', 'kernel wall ms', 'kernel insns', 'ours ms', 'ours/kernel'];
  const lines = fx.map((r) => {
    const k = r.kernelTime;
    const kUs = k?.verifierUsec;
    return [
      r.name,
      kUs !== undefined ? String(kUs) : 'n/a',
      k && Number.isFinite(k.wallNs) ? (k.wallNs / 1e6).toFixed(2) : 'n/a',
      k?.processed !== undefined ? String(k.processed) : 'n/a',
      (r.ourTimeNs / 1e6).toFixed(2),
      kUs ? `${(r.ourTimeNs / 1000 / kUs).toFixed(2)}x` : 'n/a',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(fmt(head));
  for (const l of lines) console.log(fmt(l));
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const verifier = new OurVerifier(args.timeoutMs);
  try {
    await run(args, verifier);
  } finally {
    await verifier.close();
  }
}

async function run(args: Args, verifier: OurVerifier): Promise<void> {
  const progress = (i: number, name: string): void => {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K[${i}] ${name.slice(0, 70)}`);
  };
  const kernel = kernelAvailable();
  const useKernel = kernel.ok;
  if (!kernel.ok) console.log(`kernel: not available (${kernel.reason}); cases are compared with their recorded expectations, fixtures with nothing`);
  else if (!kernel.privileged) console.log('kernel: available but not privileged (no CAP_SYS_ADMIN/CAP_PERFMON): privileged programs use recorded expectations');
  const want = (group: string, name: string): boolean =>
    (!args.groups || args.groups.has(group)) && (!args.match || name.includes(args.match));
  const rows: Row[] = [];

  // Fixtures: every XDP program of every object, verified as root.
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.o')).sort()) {
    const obj = loadObjectFile(join(FIXTURES, file));
    for (const program of findPrograms(obj)) {
      const name = `${basename(file, '.o')}/${program.name}`;
      if (!want('fixtures', name)) continue;
      progress(rows.length + 1, name);
      let o = await verifier.verify(program, obj.maps, true, obj.license);
      for (let i = 1; i < args.rounds && o.timeNs < 1e9 && !o.v.crashed; i++) {
        const again = await verifier.verify(program, obj.maps, true, obj.license);
        if (again.timeNs < o.timeNs) o = again;
      }
      let k: Verdict | undefined;
      let kernelTime: KernelVerifyTime | undefined;
      if (useKernel && kernel.privileged) {
        try {
          k = fromKernel(kernelVerdict(obj, program, { logLevel: 1 }));
          kernelTime = kernelVerifyTime(obj, program, { rounds: args.rounds });
        } catch (e) {
          // The loader refuses the object before the kernel sees it (a kfunc the kernel lacks): libbpf's verdict.
          if (!(e instanceof UnsupportedError)) throw e;
          k = { ok: false, insn: -1, message: e.message };
        }
      }
      rows.push({
        group: 'fixtures', name, privileged: true, kernel: k, kernelSource: k ? 'kernel' : 'none', ours: o.v, ourTimeNs: o.timeNs,
        ...(kernelTime ? { kernelTime } : {}),
      });
    }
  }

  // Cases.
  for (const c of loadCases()) {
    if (!want(c.group, c.name)) continue;
    const { object, program } = caseObject(c);
    progress(rows.length + 1, c.name);
    const o = await verifier.verify(program, object.maps, c.privileged, object.license);
    const live = useKernel && (kernel.privileged || !c.privileged);
    const k = live ? fromKernel(kernelVerdict(object, program, { privileged: c.privileged, logLevel: 1 })) : fromExpect(c.expect);
    rows.push({ group: c.group, name: c.name, privileged: c.privileged, kernel: k, kernelSource: live ? 'kernel' : 'recorded', ours: o.v, ourTimeNs: o.timeNs });
  }

  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  rows.sort((a, b) => order(a.group) - order(b.group));
  const recorded = rows.filter((r) => r.kernelSource === 'recorded').length;
  console.log(`\nour verifier against the kernel's (${rows.length} programs${recorded ? `, ${recorded} compared with recorded expectations` : ''})\n`);
  table(rows);
  const bad = disagreements(rows, args.log);
  timings(rows);
  if (args.json) {
    writeFileSync(args.json, JSON.stringify(rows.map((r) => ({
      group: r.group, name: r.name, privileged: r.privileged, kernelSource: r.kernelSource,
      kernel: r.kernel && { ok: r.kernel.ok, insn: r.kernel.insn, message: r.kernel.message },
      ours: { ok: r.ours.ok, insn: r.ours.insn, message: r.ours.message, crashed: r.ours.crashed ?? false },
      ourTimeNs: r.ourTimeNs, kernelTime: r.kernelTime,
    })), null, 2));
    console.log(`\nresults written to ${args.json}`);
  }
  if (args.strict && bad > 0) process.exitCode = 1;
}

function order(group: string): number {
  return group === 'fixtures' ? -1 : GROUPS.indexOf(group as (typeof GROUPS)[number]);
}

if (isMainThread) {
  main().catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exitCode = 2;
  });
} else {
  workerLoop();
}

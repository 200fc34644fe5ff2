/**
 * Basic blocks of a prepared program, and what each costs: both host engines
 * charge the instruction budget a whole block at a time, on entering it, so a
 * run that exhausts the budget stops at the same instruction, with the same
 * effects done, in either engine.
 */
import type { ExecProgram } from './exec-program.js';

/** First slots of the basic blocks of the function spanning slots [start, end). */
export function blockStarts(p: ExecProgram, start: number, end: number): Set<number> {
  const starts = new Set<number>([start]);
  for (let s = start; s < end; s++) {
    const k = p.kinds[s];
    if (!k) continue;
    const next = s + (k.k === 'lddw' ? 2 : 1);
    if (k.k === 'ja' || k.k === 'jcond' || k.k === 'maygoto') {
      const off = k.k === 'ja' && k.long ? p.imm[s]! : p.off[s]!;
      starts.add(s + off + 1);
      if (next < end) starts.add(next);
    } else if (k.k === 'exit' || k.k === 'call') {
      if (next < end) starts.add(next);
    }
  }
  return starts;
}

/** Instructions in the block starting at `s` (which ends at the next start, or the function's end). */
export function blockCost(p: ExecProgram, starts: ReadonlySet<number>, s: number, end: number): number {
  let n = 0;
  for (let t = s; t < end; t += p.kinds[t]?.k === 'lddw' ? 2 : 1) {
    if (t !== s && starts.has(t)) break;
    n++;
  }
  return n;
}

/** Per slot: the cost of the block starting there, 0 where no block starts. */
export function blockCosts(p: ExecProgram): Int32Array {
  const costs = new Int32Array(p.length);
  const fns = [...p.funcStarts].sort((a, b) => a - b);
  fns.forEach((start, i) => {
    const end = fns[i + 1] ?? p.length;
    const starts = blockStarts(p, start, end);
    for (const s of starts) if (s >= start && s < end && p.kinds[s]) costs[s] = blockCost(p, starts, s, end);
  });
  return costs;
}

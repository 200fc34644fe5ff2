/**
 * The records the JIT plans and lowers, rewritten where passes replace or remove whole
 * instructions — in this order: const-src (constant registers as immediates), ld-combine
 * (joined packet bytes as one load), st-combine (joined packet stores as one store),
 * dead-def (definitions nobody reads) — and the facts about the exits the outro is chosen
 * by. The validator's lockstep reads the same planned records, so that it compares what
 * the card code computes.
 */
import type { JitRecord, PassName } from '../translate.js';
import { constSource, knownTables, type ReadOptions } from './const-src.js';
import { deadDefs } from './dead-def.js';
import { combineLoads } from './ld-combine.js';
import { combineStores, type StoreSpan } from './st-combine.js';

/** The main program's exits the verifier reached (`mainEnd`: index of the first subprogram). */
export const mainExits = (records: readonly JitRecord[], mainEnd: number): JitRecord[] =>
  records.filter((r) => r.kind.k === 'exit' && r.index < mainEnd && r.visits !== 0);

/** Does every reachable exit of the main program return one constant (const-exit)? */
export function exitsConstant(records: readonly JitRecord[], passes: ReadonlySet<PassName>, mainEnd: number): boolean {
  const exits = mainExits(records, mainEnd);
  return passes.has('const-exit') && exits.length > 0 && exits.every((r) => r.reads?.[0]?.constant !== undefined);
}

export interface Planned {
  /** The records the plans and lowerings see: rewritten by const-src and ld-combine, without what emits nothing. */
  readonly planned: JitRecord[];
  /** eBPF indexes that emit nothing (ld-combine's joined instructions, dead-def's dead ones). */
  readonly away: ReadonlySet<number>;
  /** Which registers each planned record's card code reads. */
  readonly reads: ReadOptions;
  /** st-combine's chunks: between their first and last store the card's packet bytes differ from the program's. */
  readonly spans: readonly StoreSpan[];
}

/**
 * The records the plans and lowerings work on: const-src's immediates in place of constant
 * registers, ld-combine's loads in place of the first loads of joined bytes (the rest left
 * out), st-combine's stores in place of the stores they join, then dead-def's dead definitions
 * left out.
 */
export function plannedRecords(records: readonly JitRecord[], passes: ReadonlySet<PassName>, constExit: boolean, mainEnd: number): Planned {
  const reads: ReadOptions = { constSrc: passes.has('const-src'), constExit, mainEnd, tables: passes.has('const-src') ? knownTables(records) : new Map() };
  let planned: JitRecord[] = passes.has('const-src') ? records.map((r) => constSource(r) ?? r) : [...records];
  const away = new Set<number>();
  if (passes.has('ld-combine')) {
    const combined = combineLoads(planned);
    combined.away.forEach((i) => away.add(i));
    planned = planned.filter((r) => !away.has(r.index)).map((r) => combined.loads.get(r.index) ?? r);
  }
  const spans: StoreSpan[] = [];
  if (passes.has('st-combine')) {
    const combined = combineStores(planned);
    combined.away.forEach((i) => away.add(i));
    spans.push(...combined.spans);
    planned = planned.filter((r) => !combined.away.has(r.index)).map((r) => combined.stores.get(r.index) ?? r);
  }
  if (passes.has('dead-def')) {
    const dead = deadDefs(planned, reads);
    dead.away.forEach((i) => away.add(i));
    planned = dead.planned;
  }
  return { planned, away, reads, spans };
}

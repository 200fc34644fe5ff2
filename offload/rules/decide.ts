/**
 * The offload decision for one program on one card: verify it as the kernel
 * would for a device (rx_queue_index writable), apply the offload rules, and
 * say `offload` (the card runs it), `host` (safe, but the card cannot: the host
 * CPU runs it) or `reject` (the verifier refuses it, or only the card could run
 * it and cannot). Every reason carries its instruction, disassembly and C line;
 * the resources say what the program uses of the card.
 */
import type { CardProfile } from '../../caps/profile.js';
import type { MapDef, Program, SourcePosition } from '../../xdp/object/bpf-object.js';
import { describeInsn } from '../../xdp/object/program-listing.js';
import { verifyProgram, verifierMaps, type VerifyOptions, type VerifyResult } from '../verifier/verifier.js';
import { buildRecords, type ProgramRecords } from '../verifier/insn-records.js';
import { cardMaps, checkOffload, estimatedCardInsns, stackUse, type Reason, type RuleId } from './offload-rules.js';
import { JitError } from '../jit/errors.js';
import { nfpShaped, translateProgram, type Translated } from '../jit/jit-program.js';

export type Verdict = 'offload' | 'host' | 'reject';

export interface ReportedReason {
  readonly rule: RuleId | 'verifier';
  /** Instruction index (slot, as the kernel counts) and its disassembly, when the reason is about one. */
  readonly insn?: number;
  readonly text?: string;
  readonly source?: SourcePosition;
  readonly message: string;
  readonly suggestion?: string;
}

export interface Usage {
  readonly used: number;
  readonly limit: number;
}

export interface OffloadReport {
  readonly verdict: Verdict;
  readonly reasons: readonly ReportedReason[];
  readonly resources: {
    readonly stack: Usage & { readonly frameBytes: number };
    readonly maps: Usage;
    readonly mapEntries: Usage;
    /** Card instructions: the JIT's count, or an estimate from the eBPF count where it does not translate. */
    readonly programSize: Usage & { readonly estimate: boolean; readonly ebpfInsns: number };
  };
  readonly verifier: VerifyResult;
  /** The JIT's records and translation, where it translated the program (jit and validate reuse them). */
  readonly translated?: Translated;
}

const EXIT: Readonly<Record<Verdict, number>> = { offload: 0, host: 3, reject: 2 };
/** The exit status of `offload check` for a verdict (1 is for usage and input errors). */
export const verdictExitCode = (v: Verdict): number => EXIT[v];

/** What the decision needs of the object: its maps. */
type ObjectMaps = { readonly maps: readonly MapDef[] };

function located(program: Program, object: ObjectMaps, r: Omit<ReportedReason, 'text' | 'source'>, records: ProgramRecords): ReportedReason {
  if (r.insn === undefined) return r;
  const index = records.at(r.insn)?.pos;
  if (index === undefined) return r;
  const source = realLine(program, index);
  return { ...r, text: describeInsn(program, index, object.maps), ...(source ? { source } : {}) };
}

/**
 * The C line of instruction `index`: its line_info record's, or where that says line 0 (clang's "no
 * line", as for code it merged, such as one bpf_tail_call serving several), the closest earlier
 * instruction's real line in the same function.
 */
export function realLine(program: Program, index: number): SourcePosition | undefined {
  const fnStart = Math.max(0, ...program.funcs.map((f) => f.start).filter((s) => s <= index));
  for (let i = index; i >= fnStart; i--) {
    const pos = program.lines[i];
    if (pos && pos.line > 0) return pos;
  }
  return undefined;
}

/** Reasons of one rule about one instruction become one, their messages (and suggestions) joined. */
function onePerInsnAndRule(reasons: readonly Reason[]): Reason[] {
  const out: Reason[] = [];
  const at = new Map<string, number>();
  for (const r of reasons) {
    const key = r.slot === undefined ? undefined : `${r.slot}/${r.rule}`;
    const i = key === undefined ? undefined : at.get(key);
    if (i === undefined) {
      if (key !== undefined) at.set(key, out.length);
      out.push(r);
      continue;
    }
    const prev = out[i]!;
    const suggestion = [prev.suggestion, r.suggestion].filter((x): x is string => x !== undefined && x !== '').join('; ');
    out[i] = { ...prev, message: `${prev.message}; ${r.message}`, ...(suggestion ? { suggestion } : {}) };
  }
  return out;
}

/** Decide where `program` of `object` runs with `profile`. */
/** The JIT's exact size, or why it could not translate (undefined where it does not translate for the card). */
function translation(object: ObjectMaps, program: Program, profile: CardProfile, opts: Omit<VerifyOptions, 'observe' | 'offloaded'>):
  { translated: Translated } | { failure: JitError } | undefined {
  if (!nfpShaped(profile)) return undefined;
  try {
    return { translated: translateProgram(object, program, profile, { unprivileged: opts.privileged === false }) };
  } catch (e) {
    if (e instanceof JitError) return { failure: e };
    throw e;
  }
}

export function decideOffload(
  object: ObjectMaps, program: Program, profile: CardProfile, opts: Omit<VerifyOptions, 'observe' | 'offloaded'> = {},
): OffloadReport {
  const { result, records } = buildRecords(program, object.maps, { ...opts, offloaded: true });
  const maps = verifierMaps(object.maps).maps;
  // Counted as the map rules count them: only the maps the card itself would hold.
  const held = cardMaps(records, profile, maps);
  const entries = held.reduce((n, m) => n + m.maxEntries, 0);
  const jit = result.ok ? translation(object, program, profile, opts) : undefined;
  const translated = jit && 'translated' in jit ? jit.translated : undefined;
  const cardInsns = translated?.card.insns.length;
  const resources = {
    stack: { used: stackUse(records, profile.stack.frameBytes), limit: profile.stack.bytes, frameBytes: profile.stack.frameBytes },
    maps: { used: held.length, limit: profile.maps.maxMaps },
    mapEntries: { used: entries, limit: profile.maps.maxEntries },
    programSize: {
      used: cardInsns ?? estimatedCardInsns(program, profile), limit: profile.maxInsns, estimate: cardInsns === undefined, ebpfInsns: program.insns.length,
    },
  };
  if (!result.ok) {
    const e = result.error!;
    const reason = located(program, object, { rule: 'verifier', ...(e.pass === 'walk' || e.insn >= 0 ? { insn: e.insn } : {}), message: e.message }, records);
    return { verdict: 'reject', reasons: [reason], resources, verifier: result };
  }
  const found = checkOffload({ program, maps, profile, records, ...(cardInsns !== undefined ? { cardInsns } : {}) });
  // A program the rules accept but the JIT cannot translate does not run on the card either.
  if (found.length === 0 && jit && 'failure' in jit) {
    found.push({ rule: 'translation', slot: jit.failure.index, message: `the JIT cannot translate it: ${jit.failure.reason}` });
  }
  const reasons = onePerInsnAndRule(found).map((r: Reason) =>
    located(program, object, { rule: r.rule, ...(r.slot !== undefined ? { insn: r.slot } : {}), message: r.message, ...(r.suggestion ? { suggestion: r.suggestion } : {}) }, records));
  const made = translated ? { translated } : {};
  if (reasons.length === 0) return { verdict: 'offload', reasons, resources, verifier: result, ...made };
  // The host kernel verifies without a device: what only a device allows (rx_queue_index stores) fails there.
  const host = reasons.some((r) => r.rule === 'ctx-store') ? verifyProgram(program, object.maps, { ...opts, offloaded: false }) : result;
  if (!host.ok) {
    const e = host.error!;
    const why = located(program, object, { rule: 'verifier', insn: e.insn, message: `on the host CPU: ${e.message}` }, records);
    return { verdict: 'reject', reasons: [...reasons, why], resources, verifier: host };
  }
  return { verdict: 'host', reasons, resources, verifier: result };
}

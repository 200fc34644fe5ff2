/**
 * The ld-combine pass: packet bytes loaded one by one and put together with shifts
 * and ORs — what clang emits for a field it cannot prove aligned, e.g.
 *
 *   r3 = *(u8 *)(r1 + 13); r3 <<= 8; r4 = *(u8 *)(r1 + 12); r3 |= r4
 *
 * for a little-endian `u16` at offset 12 — become one load of the whole field (LLVM's
 * load combining, done here on the verified program). A forward scan over straight-line
 * code follows, per register, a value made of packet bytes [lo, lo + len) through one
 * base register, shifted left by `shift` bits:
 *
 * - an unsigned 1/2/4-byte load through a packet pointer starts one;
 * - `lsh` by a multiple of 8 that keeps it within the operation's width moves it;
 * - `d |= s` of two such values through the same base (unchanged since both loads),
 *   adjacent and lined up (byte lo + k at bit shift + 8k on both sides), joins them.
 *
 * A value is finished when anything else reads or writes its register, at a jump,
 * jump target, call, exit or packet store (nothing is followed across control flow or
 * a change of the packet). A finished value of two or more loads, unshifted, 2, 4 or 8
 * bytes long, whose every consumed register (the `s` of each OR) is dead after its OR,
 * becomes one load into its register at the place of that register's first load; every
 * other instruction of it emits nothing. Every byte of the combined load was loaded by
 * the program itself with no jump between, so the verifier's bounds hold for all of it.
 */
import { makeInsn } from '../../../xdp/isa/insn.js';
import { kindOf } from '../../../xdp/isa/kind.js';
import { Class, Mode, Size } from '../../../xdp/isa/opcodes.js';
import { regsRead, regsWritten } from '../../verifier/insn-regs.js';
import { isPacketPointer, jumpTargets, type PlanRecord } from './jit-records.js';
import { regLiveness } from './liveness.js';

const SIZE_CODE: Readonly<Record<number, number>> = { 2: Size.H, 4: Size.W, 8: Size.DW };
const REGS = 11;

/** A register's value: packet bytes [lo, lo + len) through `base`, little-endian, shifted left by `shift` bits. */
interface Bytes {
  readonly base: number;
  /** The base register's write count when the first load read it. */
  readonly baseGen: number;
  lo: number;
  len: number;
  shift: number;
  loads: number;
  /** Record positions of every instruction that made it. */
  readonly members: number[];
  /** Position of the load that started it in its register: where the combined load goes. */
  readonly first: number;
  /** Each OR that took another register's value, and that register. */
  readonly consumed: { readonly at: number; readonly reg: number }[];
}

export interface CombinedLoads {
  /** By eBPF index of a register's first load: the combined load that replaces it. */
  readonly loads: ReadonlyMap<number, PlanRecord>;
  /** The other instructions of combined values: they emit nothing. */
  readonly away: ReadonlySet<number>;
}

/** Does the record end every value followed (control flow, a call, a packet store)? */
function ends(r: PlanRecord): boolean {
  const k = r.kind.k;
  if (k === 'jcond' || k === 'ja' || k === 'exit' || k === 'call' || k === 'ldpkt' || k === 'maygoto') return true;
  if (k === 'st' || k === 'stx' || k === 'atomic') {
    const f = r.reads?.[r.insn.dst];
    return !f || !f.types.has('fp') || f.types.size !== 1;
  }
  return false;
}

/** `b` joined to `a` (a's register keeps the result), if they are adjacent and lined up within `width` bits. */
function join(a: Bytes, b: Bytes, width: number): boolean {
  if (a.shift - 8 * a.lo !== b.shift - 8 * b.lo) return false;
  if (a.lo + a.len !== b.lo && b.lo + b.len !== a.lo) return false;
  const lo = Math.min(a.lo, b.lo);
  const shift = a.lo < b.lo ? a.shift : b.shift;
  const len = a.len + b.len;
  if (shift + 8 * len > width) return false;
  a.lo = lo;
  a.len = len;
  a.shift = shift;
  a.loads += b.loads;
  a.members.push(...b.members);
  a.consumed.push(...b.consumed);
  return true;
}

export function combineLoads(records: readonly PlanRecord[]): CombinedLoads {
  const loads = new Map<number, PlanRecord>();
  const away = new Set<number>();
  if (!records.some((r) => r.reads !== undefined)) return { loads, away };
  const targets = jumpTargets(records);
  const liveOut = regLiveness(records).liveOut;
  const gen = new Array<number>(REGS).fill(0);
  const held = new Array<Bytes | undefined>(REGS).fill(undefined);

  const finish = (v: Bytes): void => {
    const size = SIZE_CODE[v.len];
    if (v.loads < 2 || v.shift !== 0 || size === undefined) return;
    if (v.consumed.some((c) => ((liveOut.get(records[c.at]!.index) ?? ~0) & (1 << c.reg)) !== 0)) return;
    const first = records[v.first]!;
    const insn = makeInsn(Class.LDX | Mode.MEM | size, first.insn.dst, v.base, v.lo, 0);
    loads.set(first.index, { index: first.index, insn, kind: kindOf(insn), ...(first.reads ? { reads: first.reads } : {}), ...(first.visits !== undefined ? { visits: first.visits } : {}) });
    for (const m of v.members) if (m !== v.first) away.add(records[m]!.index);
  };
  const release = (reg: number): void => {
    const v = held[reg];
    held[reg] = undefined;
    if (v) finish(v);
  };
  const releaseAll = (): void => {
    for (let reg = 0; reg < REGS; reg++) release(reg);
  };

  records.forEach((r, i) => {
    if (targets.has(r.index) || r.visits === 0) releaseAll();
    if (r.visits === 0) return;
    const k = r.kind;
    const { dst: d, src: s } = r.insn;
    if (k.k === 'ldx' && !k.signed && k.size !== 8 && d !== s && isPacketPointer(r.reads?.[s])) {
      release(d);
      gen[d]!++;
      held[d] = { base: s, baseGen: gen[s]!, lo: r.insn.off, len: k.size, shift: 0, loads: 1, members: [i], first: i, consumed: [] };
      return;
    }
    const v = k.k === 'alu' && d < REGS ? held[d] : undefined;
    if (v && k.k === 'alu' && k.op === 'lsh' && !k.useReg) {
      const n = r.insn.imm;
      if (n > 0 && n % 8 === 0 && v.shift + n + 8 * v.len <= k.width) {
        v.shift += n;
        v.members.push(i);
        return;
      }
    }
    if (v && k.k === 'alu' && k.op === 'or' && k.useReg && s !== d && s < REGS) {
      const w = held[s];
      if (w && w.base === v.base && v.baseGen === gen[v.base] && w.baseGen === gen[w.base]) {
        const joined = join(v, { ...w, consumed: [...w.consumed, { at: i, reg: s }] }, k.width);
        if (joined) {
          v.members.push(i);
          held[s] = undefined;
          return;
        }
      }
    }
    // Anything else: what it reads is finished as it stands, what it writes starts over.
    for (const reg of regsRead(r.insn, k)) if (reg < REGS) release(reg);
    for (const reg of regsWritten(r.insn, k)) {
      release(reg);
      gen[reg]!++;
    }
    if (ends(r)) releaseAll();
  });
  releaseAll();
  return { loads, away };
}

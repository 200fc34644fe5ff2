/**
 * The st-combine pass: packet stores of single bytes (or halves) that together write
 * one field — clang's code for a field it cannot prove aligned, a header built byte by
 * byte — become one store of 2, 4 or 8 bytes:
 *
 *   *(u8 *)(r1 + 4) = r2; r2 >>= 8; *(u8 *)(r1 + 5) = r2     →  *(u16 *)(r1 + 4) = r2
 *   *(u8 *)(r1 + 14) = 0x45; *(u8 *)(r1 + 15) = 0            →  *(u16 *)(r1 + 14) = 0x45
 *
 * Within one region of straight-line code — no jump, jump target, call, exit, packet
 * load, packet store through another base register or atomic operation on the packet
 * inside it, the base register unchanged — the stores through one base are taken
 * apart into bytes: constant bytes, or bytes of one register value V (followed through
 * copies and right shifts by whole bytes: a store of V >> 8k writes V's bytes k, k+1, …).
 * Contiguous stores of constants, or of V's bytes in order, make a chunk of 8, 4 or 2
 * bytes (whole stores, the first chunk that fits from the lowest address on); no store
 * outside it may touch its bytes between its first and last store. The chunk is stored
 * once: a register chunk where the store of its lowest byte was (whose register then
 * holds V shifted to that byte), a constant chunk where its first store was; its other
 * stores emit nothing. dead-def then removes the shifts nobody reads any more.
 *
 * Every byte of a chunk was stored by the program in that region, after the same bounds
 * checks, so the verifier's bounds hold for the whole store.
 */
import { makeInsn } from '../../../xdp/isa/insn.js';
import { kindOf } from '../../../xdp/isa/kind.js';
import { Class, Mode, Size } from '../../../xdp/isa/opcodes.js';
import { regsWritten } from '../../verifier/insn-regs.js';
import { isPacketPointer, jumpTargets, type PlanRecord } from './jit-records.js';

const SIZE_CODE: Readonly<Record<number, number>> = { 1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW };
const REGS = 11;

/** One packet store of a region. */
interface Store {
  readonly pos: number;
  readonly base: number;
  readonly baseGen: number;
  readonly off: number;
  readonly size: number;
  /** Its bytes: a constant, or bytes k.. of the value `value` (held in `reg` at the store). */
  readonly src: { readonly k: 'const'; readonly bytes: bigint } | { readonly k: 'value'; readonly value: number; readonly byte: number; readonly reg: number };
}

export interface StoreSpan {
  readonly from: number;
  readonly to: number;
  readonly at: number;
  /** The bytes it writes: `size` from `lo` past the base register. */
  readonly base: number;
  readonly lo: number;
  readonly size: number;
}

export interface CombinedStores {
  /** By eBPF index: the store that replaces it (a chunk's). */
  readonly stores: ReadonlyMap<number, PlanRecord>;
  /** The chunks' other stores: they emit nothing. */
  readonly away: ReadonlySet<number>;
  /** Each chunk: the eBPF indexes of its first and last store (between them the card's packet differs from the program's) and of the store that writes it. */
  readonly spans: readonly StoreSpan[];
}

/** Does the record end a region (control flow, a call, packet loads and atomics)? */
function endsRegion(r: PlanRecord): boolean {
  const k = r.kind.k;
  if (k === 'jcond' || k === 'ja' || k === 'exit' || k === 'call' || k === 'ldpkt' || k === 'maygoto') return true;
  if (k === 'ldx' || k === 'atomic') return !isStackOrMap(r, k === 'ldx' ? r.insn.src : r.insn.dst);
  return false;
}

/** A base register that is the stack, a map value or the context on every path (no packet bytes behind it). */
function isStackOrMap(r: PlanRecord, reg: number): boolean {
  if (reg === 10) return true;
  const f = r.reads?.[reg];
  return !!f && f.types.size > 0 && [...f.types].every((t) => t === 'fp' || t === 'map_value' || t === 'ctx');
}

const mask = (size: number): bigint => (1n << BigInt(8 * size)) - 1n;

/** The chunks of a run of stores sorted by address: whole stores from the lowest, 8, 4 or 2 bytes, of one kind. */
function chunksOf(run: readonly Store[], fits: (a: Store, b: Store) => boolean): Store[][] {
  const out: Store[][] = [];
  let i = 0;
  while (i < run.length) {
    let best = 0;
    let bytes = 0;
    for (let j = i; j < run.length; j++) {
      if (j > i && (run[j]!.off !== run[j - 1]!.off + run[j - 1]!.size || !fits(run[i]!, run[j]!))) break;
      bytes += run[j]!.size;
      if (bytes > 8) break;
      if ((bytes === 2 || bytes === 4 || bytes === 8) && j > i) best = j - i + 1;
    }
    if (best >= 2) {
      out.push(run.slice(i, i + best));
      i += best;
    } else i++;
  }
  return out;
}

export function combineStores(records: readonly PlanRecord[]): CombinedStores {
  const stores = new Map<number, PlanRecord>();
  const away = new Set<number>();
  const spans: StoreSpan[] = [];
  if (!records.some((r) => r.reads !== undefined)) return { stores, away, spans };
  const targets = jumpTargets(records);
  const gen = new Array<number>(REGS).fill(0);
  // What each register holds: value id and the byte it starts at (V >> 8·byte).
  const held = new Array<{ value: number; byte: number } | undefined>(REGS).fill(undefined);
  let ids = 0;
  let region: Store[] = [];

  const chunk = (members: readonly Store[]): void => {
    const lo = members[0]!.off;
    const size = members.reduce((n, s) => n + s.size, 0);
    const first = Math.min(...members.map((s) => s.pos));
    const last = Math.max(...members.map((s) => s.pos));
    // No other store of the region touches these bytes between the chunk's first and last store.
    const clash = region.some((s) => !members.includes(s) && s.pos > first && s.pos < last && s.off < lo + size && s.off + s.size > lo);
    if (clash) return;
    const head = members[0]!;
    let at: Store;
    let insn;
    if (head.src.k === 'const') {
      let v = 0n;
      for (const s of members) if (s.src.k === 'const') v |= (s.src.bytes & mask(s.size)) << BigInt(8 * (s.off - lo));
      const imm = BigInt.asIntN(32, v);
      if (size === 8 && BigInt.asUintN(64, imm) !== v) return;
      at = members.find((s) => s.pos === first)!;
      insn = makeInsn(Class.ST | Mode.MEM | SIZE_CODE[size]!, head.base, 0, lo, Number(imm));
    } else {
      at = head;
      insn = makeInsn(Class.STX | Mode.MEM | SIZE_CODE[size]!, head.base, head.src.reg, lo, 0);
    }
    const rec = records[at.pos]!;
    stores.set(rec.index, { ...rec, insn, kind: kindOf(insn) });
    for (const s of members) if (s !== at) away.add(records[s.pos]!.index);
    spans.push({ from: records[first]!.index, to: records[last]!.index, at: rec.index, base: head.base, lo, size });
  };

  const flush = (): void => {
    const bases = new Map<string, Store[]>();
    for (const s of region) {
      const key = `${s.base}/${s.baseGen}`;
      bases.set(key, [...(bases.get(key) ?? []), s]);
    }
    for (const list of bases.values()) {
      const consts = list.filter((s) => s.src.k === 'const').sort((a, b) => a.off - b.off);
      for (const c of chunksOf(consts, () => true)) chunk(c);
      const byValue = new Map<string, Store[]>();
      for (const s of list) {
        if (s.src.k !== 'value') continue;
        // One value's bytes in order: the address of its byte 0 is the same for all of them.
        const key = `${s.src.value}@${s.off - s.src.byte}`;
        byValue.set(key, [...(byValue.get(key) ?? []), s]);
      }
      for (const run of byValue.values()) for (const c of chunksOf(run.sort((a, b) => a.off - b.off), () => true)) chunk(c);
    }
    region = [];
  };

  /** The value a register holds now, named when first asked for. */
  const valueOf = (reg: number): { value: number; byte: number } => (held[reg] ??= { value: ++ids, byte: 0 });

  records.forEach((r, i) => {
    const prev = records[i - 1]?.kind.k;
    if (targets.has(r.index) || r.visits === 0 || prev === 'exit' || prev === 'ja') {
      flush();
      // Paths join here, or a function starts after an exit: what each register holds is named afresh
      // (copies on one path are not on another).
      held.fill(undefined);
    }
    if (r.visits === 0) return;
    const k = r.kind;
    const { dst: d, src: s } = r.insn;
    if ((k.k === 'st' || k.k === 'stx') && isPacketPointer(r.reads?.[d])) {
      if (region.some((x) => x.base !== d || x.baseGen !== gen[d])) flush();
      const src: Store['src'] | undefined = k.k === 'st'
        ? { k: 'const', bytes: BigInt.asUintN(64, BigInt(r.insn.imm)) }
        : s < 10 ? { k: 'value', ...valueOf(s), reg: s } : undefined;
      if (src && (src.k === 'const' || src.byte + k.size <= 8)) region.push({ pos: i, base: d, baseGen: gen[d]!, off: r.insn.off, size: k.size, src });
      else flush();
      return;
    }
    if (endsRegion(r)) flush();
    // What each register holds, through copies and right shifts by whole bytes.
    if (k.k === 'alu' && k.width === 64 && k.op === 'mov' && k.useReg && s < REGS && d !== s) {
      held[d] = { ...valueOf(s) };
      gen[d]!++;
      return;
    }
    if (k.k === 'alu' && k.width === 64 && k.op === 'rsh' && !k.useReg && held[d] && r.insn.imm % 8 === 0 && held[d]!.byte + r.insn.imm / 8 < 8) {
      held[d] = { value: held[d]!.value, byte: held[d]!.byte + r.insn.imm / 8 };
      gen[d]!++;
      return;
    }
    for (const reg of regsWritten(r.insn, k)) {
      if (reg >= REGS) continue;
      held[reg] = { value: ++ids, byte: 0 };
      gen[reg]!++;
    }
  });
  flush();
  return { stores, away, spans };
}

/**
 * Load/store gathering (the kernel JIT's `nfp_bpf_opt_ldst_gather` and its
 * `nfp_cpp_memcpy` lowering): a chain of `ldx r, [S + a]; stx [S + a + δ], r` pairs —
 * what clang makes of a small memcpy or a MAC-address swap inside the packet — copies
 * bytes [A0, A1) to [A0 + δ, A1 + δ). When every pair uses the same packet pointer S,
 * the same size and δ, the source bytes form one gap-free range that does not overlap
 * the destination, and no jump lands inside the chain, the whole copy is one read and
 * one write per 8 bytes (the most a byte command moves) with the words passed from
 * transfer-in to transfer-out registers between them. Up to 128 bytes (16 such
 * commands). The chain's last load is still lowered where it stands, so r ends with
 * the value the eBPF code leaves in it.
 */
import { isPacketPointer, type PlanRecord } from './jit-records.js';

/** The longest copy gathered (the NFP's limit). */
export const GATHER_MAX_BYTES = 128;
/** Bytes one read8/write8 moves. */
export const CHUNK_BYTES = 8;

export interface GatherCopy {
  /** eBPF register holding the packet pointer. */
  readonly base: number;
  /** Source range [from, from + length) and destination from + delta, as offsets from the pointer. */
  readonly from: number;
  readonly length: number;
  readonly delta: number;
}

/** Per eBPF index: the copy to emit (at the chain's first load), or `skip` (the chain's other instructions but its last load). */
export type GatherUse = { readonly k: 'copy'; readonly copy: GatherCopy } | { readonly k: 'skip' };

type Rec = PlanRecord;
const isPacket = isPacketPointer;

interface Pair { readonly load: Rec; readonly store: Rec; readonly a: number; readonly size: number }

/** `ldx r, [S + a]` followed by `stx [S + b], r` (same S, a packet pointer), or undefined. */
function pairAt(records: readonly Rec[], i: number): Pair | undefined {
  const load = records[i];
  const store = records[i + 1];
  if (!load || !store || load.kind.k !== 'ldx' || load.kind.signed || store.kind.k !== 'stx') return undefined;
  if (load.kind.size !== store.kind.size || load.kind.size === 8) return undefined;
  const r = load.insn.dst;
  if (store.insn.src !== r || store.insn.dst !== load.insn.src || r === load.insn.src) return undefined;
  if (!isPacket(load.reads?.[load.insn.src]) || !isPacket(store.reads?.[store.insn.dst])) return undefined;
  return { load, store, a: load.insn.off, size: load.kind.size };
}

export function planGather(records: readonly Rec[], jumpTargets: ReadonlySet<number>): Map<number, GatherUse> {
  const out = new Map<number, GatherUse>();
  for (let i = 0; i < records.length;) {
    const first = pairAt(records, i);
    if (!first) {
      i++;
      continue;
    }
    const base = first.load.insn.src;
    const reg = first.load.insn.dst;
    const delta = first.store.insn.off - first.a;
    const chain: Pair[] = [first];
    for (let j = i + 2; ; j += 2) {
      const p = pairAt(records, j);
      if (!p || p.load.insn.src !== base || p.load.insn.dst !== reg || p.size !== first.size || p.store.insn.off - p.a !== delta) break;
      if (jumpTargets.has(p.load.index) || jumpTargets.has(p.store.index) || jumpTargets.has(chain.at(-1)!.store.index)) break;
      chain.push(p);
    }
    i += 2 * chain.length;
    if (chain.length < 2 || jumpTargets.has(first.store.index)) continue;
    const offs = chain.map((p) => p.a).sort((x, y) => x - y);
    const from = offs[0]!;
    const length = offs.length * first.size;
    const gapFree = offs.every((o, k) => o === from + k * first.size);
    const overlaps = from < from + delta + length && from + delta < from + length;
    if (!gapFree || overlaps || length > GATHER_MAX_BYTES) continue;
    out.set(first.load.index, { k: 'copy', copy: { base, from, length, delta } });
    for (const p of chain) {
      if (p !== first) out.set(p.load.index, { k: 'skip' });
      out.set(p.store.index, { k: 'skip' });
    }
    // The last load still runs where it stands (r ends as the eBPF code leaves it); the first one's
    // value is overwritten by the second pair, so the copy stands in for it.
    out.delete(chain.at(-1)!.load.index);
  }
  return out;
}

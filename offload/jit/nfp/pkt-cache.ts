/**
 * The packet-read cache (the kernel JIT's `nfp_bpf_opt_pkt_cache` and its
 * `mem_ldx_data_from_pktcache_*` lowerings): packet loads through one pointer
 * register, in straight-line code with no jump target, call or store into anything
 * but the stack between them, share one read. The first load of a window reads every
 * byte the window's loads touch — at most 64 bytes, as the NFP's window — with
 * `read32_swap` into $xfer_16..31 (the uncached loads use $xfer_0..1; beyond 8 words
 * the command takes its length from the previous result, an `immed` of CMD_OVE_LEN
 * and the length), and each load then extracts its
 * bytes: one `alu` or `ld_field_w_clr` when they lie in one word, a double shift
 * (plus a mask for 2 bytes) when they cross into the next. Loads of 1, 2 and 4 bytes
 * are cached (8-byte ones are left as they are); a window of one load is no window.
 *
 * Why it is safe: the window's loads run in order on every path through it (no jump
 * target inside), the pointer does not change, and nothing writes the packet; the
 * read happens where the first load was, and every byte it covers lies below the
 * farthest load's end, which the verifier proved inside the packet for the path
 * that reaches that load.
 */
import type { JitRegFacts } from './emit.js';
import { isPacketPointer, jumpTargets, type PlanRecord } from './jit-records.js';

/** Bytes one window may hold: 16 transfer registers (the NFP's 64-byte window). */
export const WINDOW_BYTES = 64;
/** Words a command moves without the indirect length (CMD_MAX_LENGTH). */
export const DIRECT_WORDS = 8;
/** The first transfer register of the window. */
export const CACHE_XFER = 16;

/** How one packet load uses the cache. */
export interface CacheUse {
  /** The window's first load: it issues the read. */
  readonly first: boolean;
  /** The window's start, as an offset from the base pointer. */
  readonly start: number;
  /** Words the read moves. */
  readonly words: number;
  /** This load's bytes begin at window byte `at`. */
  readonly at: number;
}

type Rec = PlanRecord;
const isPacket = isPacketPointer;
const isStack = (f: JitRegFacts | undefined): boolean => !!f && f.types.size === 1 && f.types.has('fp');

/** The register an instruction writes, if any (calls end windows anyway). */
function writes(r: Rec): number | undefined {
  const k = r.kind.k;
  return k === 'alu' || k === 'ldx' || k === 'lddw' || k === 'end' ? r.insn.dst : undefined;
}

export function planPacketCache(records: readonly Rec[]): Map<number, CacheUse> {
  const targets = jumpTargets(records);
  const out = new Map<number, CacheUse>();
  let open: { base: number; start: number; end: number; members: { index: number; off: number; size: number }[] } | undefined;
  const close = () => {
    if (open && open.members.length > 1) {
      const words = Math.ceil((open.end - open.start) / 4);
      open.members.forEach((m, i) => out.set(m.index, { first: i === 0, start: open!.start, words, at: m.off - open!.start }));
    }
    open = undefined;
  };
  for (const r of records) {
    if (targets.has(r.index)) close();
    const k = r.kind;
    if (k.k === 'ldx' && !k.signed && k.size !== 8 && r.visits !== 0 && isPacket(r.reads?.[r.insn.src])) {
      const off = r.insn.off;
      const size = k.size;
      if (open && open.base === r.insn.src && Math.max(open.end, off + size) - Math.min(open.start, off) <= WINDOW_BYTES) {
        open.start = Math.min(open.start, off);
        open.end = Math.max(open.end, off + size);
        open.members.push({ index: r.index, off, size });
      } else {
        close();
        open = { base: r.insn.src, start: off, end: off + size, members: [{ index: r.index, off, size }] };
      }
      // A load into the base register itself changes it: the window ends after this load.
      if (r.insn.dst === r.insn.src) close();
      continue;
    }
    // A store into the stack leaves the packet as it is: only other stores end the window.
    const stackStore = (k.k === 'st' || k.k === 'stx') && (r.insn.dst === 10 || isStack(r.reads?.[r.insn.dst]));
    if (((k.k === 'st' || k.k === 'stx') && !stackStore) || k.k === 'atomic' || k.k === 'call' || k.k === 'exit' || k.k === 'ja') {
      close();
      continue;
    }
    if (open && writes(r) === open.base) close();
  }
  close();
  return out;
}

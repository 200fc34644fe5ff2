/**
 * Whether a card image's packets can be run on several worker threads, each taking
 * the packets of some RSS queues with its own copy of the maps, and still leave what
 * one card running every packet in capture order leaves. They can when no packet's
 * outcome depends on another's map effects and those effects can be added back
 * together:
 * - no firmware call that updates or deletes map entries, or writes perf samples
 *   (their order across workers is lost);
 * - no random numbers (PSEUDO_RND_NUM: the sequence would be dealt out differently);
 * - no plain write to EMEM (map values), and if anything adds to EMEM (an atomic
 *   counter), nothing reads EMEM at all — a read could see another worker's adds —
 *   and every add has one width, so that the adds of each worker can be summed word
 *   by word (merge.ts).
 * Read from the image itself, so any image, however made, is judged the same way.
 */
import type { Insn } from '../isa/instructions.js';
import { HelperId } from '../../xdp/helpers/helper-ids.js';
import { helperName } from '../../xdp/helpers/helper-registry.js';

export type Shardable = { readonly ok: true; readonly addWidth?: 4 | 8 } | { readonly ok: false; readonly why: string };

const WRITING_HELPERS: ReadonlySet<number> = new Set([HelperId.MAP_UPDATE_ELEM, HelperId.MAP_DELETE_ELEM, HelperId.PERF_EVENT_OUTPUT]);

export function shardable(insns: readonly Insn[], helperAt: ReadonlyMap<number, number>): Shardable {
  let reads = false;
  const widths = new Set<4 | 8>();
  for (const insn of insns) {
    if (insn.cls === 'br') {
      const helper = helperAt.get(insn.target);
      if (helper !== undefined && WRITING_HELPERS.has(helper)) {
        return { ok: false, why: `it calls ${helperName(helper) ?? `helper ${helper}`}, whose effects depend on the order packets arrive in` };
      }
    } else if (insn.cls === 'local_csr' && !insn.write && insn.csr === 'PSEUDO_RND_NUM') {
      return { ok: false, why: 'it draws random numbers, a sequence dealt out in capture order' };
    } else if (insn.cls === 'cmd' && insn.target === 'emem') {
      if (insn.action === 'write32' || insn.action === 'write8') return { ok: false, why: 'it writes map values' };
      if (insn.action === 'add32') widths.add(4);
      else if (insn.action === 'add64') widths.add(8);
      else reads = true;
    }
  }
  if (widths.size === 0) return { ok: true };
  if (reads) return { ok: false, why: 'it adds to map values and reads map memory, so a packet could see another worker\'s adds' };
  if (widths.size > 1) return { ok: false, why: 'it adds to map values in both 32 and 64 bits' };
  return { ok: true, addWidth: [...widths][0]! };
}

/**
 * The maps' memory after several workers, each started from `initial` and left with
 * one of `finals`: every word the initial value plus each worker's change (little
 * endian, `width` bytes, wrapping as the card's adds wrap).
 */
export function mergeAdds(initial: Uint8Array, finals: readonly Uint8Array[], width: 4 | 8): Uint8Array {
  const out = initial.slice();
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const base = new DataView(initial.buffer, initial.byteOffset, initial.byteLength);
  const mask = (1n << BigInt(8 * width)) - 1n;
  for (const f of finals) {
    const fv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    for (let at = 0; at + width <= out.length; at += width) {
      if (width === 4) {
        const d = (fv.getUint32(at, true) - base.getUint32(at, true)) >>> 0;
        if (d !== 0) dv.setUint32(at, (dv.getUint32(at, true) + d) >>> 0, true);
      } else {
        const d = (fv.getBigUint64(at, true) - base.getBigUint64(at, true)) & mask;
        if (d !== 0n) dv.setBigUint64(at, (dv.getBigUint64(at, true) + d) & mask, true);
      }
    }
  }
  return out;
}

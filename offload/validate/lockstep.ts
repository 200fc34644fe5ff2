/**
 * Where a translation went wrong: one packet run on the host's reference interpreter
 * and on the card, both stopped at every eBPF instruction boundary (the card's through
 * the image's source map: the first card instruction of each eBPF instruction), and
 * the two traces walked in lockstep. At each boundary the checks are, in order:
 *
 * - the same eBPF instruction is next (else the previous one — a jump — went the other way);
 * - the registers it reads agree, each by what the verifier says it is: a scalar by
 *   its value; a packet pointer by its offset from `data`; a stack pointer by its
 *   offset from r10 (in programs of one function); a map value pointer by the map,
 *   the key and the offset it points at, or NULL (pointers are CTM, LM and EMEM
 *   addresses on the card, region handles on the host); when one differs, the
 *   instruction that last wrote it is the culprit;
 * - the main stack frame and the packet bytes agree (else the previous instruction,
 *   a store, wrote them differently) — the packet not inside a chunk of stores the JIT
 *   joined into one (st-combine), whose bytes the card writes at once.
 *
 * When the traces agree to the end and the results still differ, the program's exit
 * (the outro's action code) is named. Both sides start from fresh state (maps as
 * loaded, zeroed stacks), so the packet alone decides the path.
 */
import type { CardProfile } from '../../caps/profile.js';
import { Card } from '../../nic-sim/card/card.js';
import type { CardImage } from '../../nic-sim/image/index.js';
import type { BpfObject, Program } from '../../xdp/object/bpf-object.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import type { ProgramRecords } from '../verifier/insn-records.js';
import { regsWritten } from '../verifier/insn-regs.js';
import { PASSES, exitsConstant, highLiveness, loweredReads, plannedRecords, type StoreSpan } from '../jit/translate.js';

export interface Divergence {
  /** The eBPF instruction (kernel index) the validator blames. */
  readonly insn: number;
  /** What was seen: which register, stack byte or packet byte differed, or the path. */
  readonly why: string;
  /** The boundary where it showed (the instruction about to run). */
  readonly seenAt?: number;
}

interface Boundary {
  readonly index: number;
  /** The address of the packet's first byte on that side (packet pointers are compared by offset from it). */
  readonly data: number;
  readonly regs: Int32Array;
  readonly stack: Uint8Array;
  readonly packet: Uint8Array;
  /** The registers the instruction reads, as values both sides can compare (pointers by what they point at). */
  readonly seen: ReadonlyMap<number, string>;
}

/** Maps larger than this are not searched for the key a value pointer points into (the comparison skips the register). */
const MAX_KEYS_SEARCHED = 4096;

const PACKET = new Set(['pkt', 'pkt_end', 'pkt_meta']);
const MAP_VALUE = new Set(['map_value', 'map_value_or_null']);

/** One side's view of a register, made comparable: scalars as numbers, pointers as what they point at. */
type Describe = (type: string, lo: number, hi: number) => string | undefined;

function hostDescriber(host: XdpMachine, oneFrame: boolean): Describe {
  const view = host.inspect();
  const memory = host.maps;
  return (type, lo, hi) => {
    if (PACKET.has(type)) return `packet+${(lo | 0) - view.data}`;
    if (type === 'fp') return oneFrame ? `r10${(lo | 0) - view.stackTop}` : undefined;
    if (!MAP_VALUE.has(type)) return undefined;
    if (lo === 0 && hi === 0) return 'NULL';
    for (const m of memory) {
      const keys = m.keys();
      if (keys.length > MAX_KEYS_SEARCHED) continue;
      for (const k of keys) {
        const v = m.lookup(k, 0);
        if (v && v.region.id === hi && lo >= v.offset && lo < v.offset + m.def.valueSize) return `${m.def.name}[${Buffer.from(k).toString('hex')}]+${lo - v.offset}`;
      }
    }
    return undefined;
  };
}

function cardDescriber(card: Card, oneFrame: boolean): Describe {
  const view = card.inspect();
  const maps = card.maps;
  return (type, lo) => {
    if (PACKET.has(type)) return `packet+${(lo >>> 0) - view.data}`;
    if (type === 'fp') return oneFrame ? `r10${(lo >>> 0) - view.stackTop}` : undefined;
    if (!MAP_VALUE.has(type)) return undefined;
    if (lo === 0) return 'NULL';
    for (let i = 0; i < maps.length; i++) {
      const keys = maps.keys(i);
      if (keys.length > MAX_KEYS_SEARCHED) continue;
      for (const k of keys) {
        const at = maps.lookup(i, k);
        if (at !== 0 && (lo >>> 0) >= at && (lo >>> 0) < at + maps.defs[i]!.valueSize) return `${maps.defs[i]!.name}[${Buffer.from(k).toString('hex')}]+${(lo >>> 0) - at}`;
      }
    }
    return undefined;
  };
}

/**
 * The registers `index` reads (r0–r9) of one type on every path, described; a scalar's high word
 * only where it is still to be read (`hiLive`): the JIT leaves a high word nobody reads unwritten.
 */
function describeReads(records: ProgramRecords, read: readonly number[], index: number, regs: Int32Array, hiLive: number, describe: Describe): Map<number, string> {
  const out = new Map<number, string>();
  const rec = records.at(index);
  (rec?.reads ?? []).forEach((facts, reg) => {
    if (reg > 9 || !facts || facts.types.size !== 1 || !read.includes(reg)) return;
    const type = [...facts.types][0]!;
    const hi = regs[2 * reg + 1]!;
    const d = type === 'scalar'
      ? `${hex32((hiLive & (1 << reg)) === 0 ? 0 : hi)}:${hex32(regs[2 * reg]!)}`
      : describe(type, regs[2 * reg]!, hi);
    if (d !== undefined) out.set(reg, d);
  });
  return out;
}

const hex32 = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** The first byte where a and b differ, outside the ranges `skip` ([from, to) each). */
function firstByteDifference(a: Uint8Array, b: Uint8Array, skip: readonly (readonly [number, number])[] = []): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i] && !skip.some(([from, to]) => i >= from && i < to)) return i;
  return a.length === b.length ? -1 : n;
}

/** Card address → eBPF index, where an instruction's code starts (from the image's source map). */
export function codeStarts(image: CardImage): Map<number, number> {
  const starts = new Map<number, number>();
  image.source.forEach((idx, pc) => {
    if (idx >= 0 && (pc === 0 || image.source[pc - 1] !== idx)) starts.set(pc, idx);
  });
  return starts;
}

/** What a lockstep run (and `validate`) needs: the program, what the card loads, the records, the random seed. */
export interface LockstepInput {
  readonly obj: BpfObject;
  readonly program: Program;
  readonly profile: CardProfile;
  readonly image: CardImage;
  readonly records: ProgramRecords;
  readonly file: string;
  readonly seed: number;
}

/** Run `packet` on both sides from fresh state and name the first eBPF instruction where they part. */
export function lockstep(input: LockstepInput, packet: Uint8Array, random: () => () => number): Divergence | undefined {
  const hostTrace: Boundary[] = [];
  // The host's last instruction, boundary or not (an exit that falls into the outro has no code of its own).
  let lastHostInsn: number | undefined;
  const cardTrace: Boundary[] = [];
  const startAt = codeStarts(input.image);
  const translated = new Set(startAt.values());

  const oneFrame = input.program.funcs.length <= 1;
  const subprogram = input.program.funcs.length > 1 ? Math.min(...input.program.funcs.map((f) => f.slot).filter((x) => x > 0)) : Infinity;
  // What the card code reads: the records as the JIT planned them (constants as immediates, joined loads).
  const all = new Set(PASSES);
  const planned = plannedRecords(input.records.records, all, exitsConstant(input.records.records, all, subprogram), subprogram);
  const hiLive = highLiveness(planned.planned, subprogram, true, all).liveIn;
  const cardReads = new Map(planned.planned.map((r) => [r.index, loweredReads(r, planned.reads)]));
  const readAt = (index: number): readonly number[] => cardReads.get(index) ?? [];
  const host = new XdpMachine(input.obj, input.program, {
    engine: 'interp', random: random(),
    onInsn: (slot, regs) => {
      lastHostInsn = slot;
      if (!translated.has(slot)) return;
      const view = host.inspect();
      const r = regs.slice(0, 20);
      hostTrace.push({ index: slot, data: view.data, regs: r, stack: view.stack.slice(), packet: view.packet().slice(), seen: describeReads(input.records, readAt(slot), slot, r, hiLive.get(slot) ?? ~0, hostDescriber(host, oneFrame)) });
    },
  });
  const card: Card = new Card(input.image, input.profile, {
    file: input.file, random: random(),
    onStep: (pc, s) => {
      const idx = startAt.get(pc - card.image.base);
      if (idx === undefined) return;
      const regs = new Int32Array(20);
      for (let i = 0; i < 20; i++) regs[i] = s.gprB[i] as number;
      const view = card.inspect();
      const describe = cardDescriber(card, oneFrame);
      const seen = describeReads(input.records, readAt(idx), idx, regs, hiLive.get(idx) ?? ~0, describe);
      cardTrace.push({ index: idx, data: view.data, regs, stack: view.stack.slice(), packet: view.packet().slice(), seen });
    },
  });
  host.run(packet, 0);
  card.runPacket(packet);

  const steps = Math.min(hostTrace.length, cardTrace.length);
  const lastWriter = (k: number, reg: number): number | undefined => {
    for (let j = k - 1; j >= 0; j--) {
      const rec = input.records.at(hostTrace[j]!.index);
      if (rec && regsWritten(rec.insn, rec.kind).includes(reg)) return rec.index;
    }
    return undefined;
  };
  for (let k = 0; k < steps; k++) {
    const h = hostTrace[k]!;
    const c = cardTrace[k]!;
    const prev = k > 0 ? hostTrace[k - 1]!.index : undefined;
    if (h.index !== c.index) {
      return { insn: prev ?? h.index, seenAt: h.index, why: `the host goes on at instruction ${h.index}, the card at ${c.index}` };
    }
    for (const [reg, hv] of h.seen) {
      const cv = c.seen.get(reg);
      if (cv === undefined || cv === hv) continue;
      return { insn: lastWriter(k, reg) ?? prev ?? h.index, seenAt: h.index, why: `r${reg} read by instruction ${h.index}: host ${hv}, card ${cv}` };
    }
    const s = firstByteDifference(h.stack, c.stack);
    if (s >= 0 && prev !== undefined) {
      return { insn: prev, seenAt: h.index, why: `stack byte r10-${h.stack.length - s}: host 0x${(h.stack[s] ?? 0).toString(16)}, card 0x${(c.stack[s] ?? 0).toString(16)}` };
    }
    // Inside a chunk of st-combine's, the card has stored the chunk's bytes at once: they may differ until its last
    // store; a difference in them seen just after it is the chunk's store's.
    const chunkBytes = (span: StoreSpan, b: Boundary): [number, number] => {
      const at = (b.regs[2 * span.base]! | 0) - b.data + span.lo;
      return [at, at + span.size];
    };
    const open = planned.spans.filter((s) => h.index > s.from && h.index <= s.to);
    const p = firstByteDifference(h.packet, c.packet, open.map((s) => chunkBytes(s, h)));
    if (p >= 0 && prev !== undefined) {
      const before = hostTrace[k - 1]!;
      const chunk = planned.spans.find((s) => prev >= s.from && prev <= s.to && p >= chunkBytes(s, before)[0] && p < chunkBytes(s, before)[1]);
      return { insn: chunk?.at ?? prev, seenAt: h.index, why: `packet byte ${p}: host ${h.packet[p] === undefined ? '(none)' : `0x${h.packet[p]!.toString(16)}`}, card ${c.packet[p] === undefined ? '(none)' : `0x${c.packet[p]!.toString(16)}`}` };
    }
  }
  if (hostTrace.length !== cardTrace.length) {
    const k = steps;
    const last = k > 0 ? hostTrace[k - 1]!.index : 0;
    return { insn: last, why: `the host ran ${hostTrace.length} instructions, the card ${cardTrace.length}: they part after instruction ${last}` };
  }
  const exit = lastHostInsn;
  return exit === undefined ? undefined : { insn: exit, why: 'every instruction agrees: the exit (the outro\'s action code) does not' };
}

/**
 * The offload rules: after the verifier accepts a program, can this card run
 * it? Each rule looks at the program's instruction records (the verifier's
 * facts per instruction, offload/verifier/insn-records.ts) and the card profile
 * and gives every reason it cannot, not just the first. The rules follow what
 * the Linux NFP driver refuses (drivers/net/ethernet/netronome/nfp/bpf/
 * verifier.c and offload.c: helpers and their arguments, map types and limits,
 * one pointer type per memory access, constant stack offsets, u32 multiply,
 * constant divisors, atomic add on map values, rx_queue_index stores with
 * QUEUE_SELECT, stack in 64-byte frames), generalised to any profile; see
 * docs/caps.md for each rule's source.
 */
import type { CardProfile, XdpActionName } from '../../caps/profile.js';
import { XDP_ACTION_NAMES } from '../../caps/profile.js';
import { HelperId, helperName, helperSpec } from '../../xdp/helpers/helper-registry.js';
import { mapTypeName } from '../../xdp/maps/map-types.js';
import type { MapDef, Program } from '../../xdp/object/bpf-object.js';
import type { RegState } from '../verifier/reg-state.js';
import { constValue, isConst } from '../verifier/scalar.js';
import { IMM, type InsnRecord, type ProgramRecords, type Seen } from '../verifier/insn-records.js';

export type RuleId =
  | 'insn-class' | 'mul' | 'div' | 'atomic' | 'helper' | 'helper-arg' | 'map-type' | 'map-limit' | 'pointer-type'
  | 'stack-offset' | 'stack-size' | 'ctx-load' | 'ctx-store' | 'packet-split' | 'adjust-head' | 'action' | 'program-size'
  | 'translation'
  | 'attach' | 'kfunc';

export interface Reason {
  readonly rule: RuleId;
  /** The instruction (slot) it is about; none for whole-program limits. */
  readonly slot?: number;
  readonly message: string;
  readonly suggestion?: string;
}

export interface RuleInput {
  readonly program: Program;
  /** The verifier's map list (object maps, then inner-map templates): what `records.maps` indexes. */
  readonly maps: readonly MapDef[];
  readonly profile: CardProfile;
  readonly records: ProgramRecords;
  /** The JIT's exact count of card instructions, where it translated the program. */
  readonly cardInsns?: number;
}

/** The instructions the verifier reached, in program order. */
const reached = (records: ProgramRecords): InsnRecord[] => records.records.filter((r) => r.visits > 0);
/** What a load, store or atomic goes through: its base register. */
const baseOf = (r: InsnRecord): Seen | undefined => r.reads[r.kind.k === 'ldx' ? r.insn.src : r.insn.dst]?.seen;

const U32_MAX = 0xffffffffn;
/** Pointer types a card's translator handles in loads and stores. */
const CARD_POINTERS = new Set<RegState['type']>(['ctx', 'fp', 'pkt', 'map_value']);
/** A map type that is not offloadable, and the one to use instead. */
const MAP_SUBSTITUTES: Readonly<Record<string, string>> = {
  PERCPU_ARRAY: 'ARRAY', PERCPU_HASH: 'HASH', LRU_HASH: 'HASH', LRU_PERCPU_HASH: 'HASH', DEVMAP_HASH: 'DEVMAP',
};
/** Maps that stay on the host and are only reached through a helper the card offers. */
const HOST_MAPS: Readonly<Record<string, number>> = { PERF_EVENT_ARRAY: HelperId.PERF_EVENT_OUTPUT };
const BPF_F_CURRENT_CPU = 0xffffffff;
const RX_QUEUE_INDEX = 16;
/** xdp_md fields a card reads even without `isa.ctxAllFields` (the NFP's mem_ldx_xdp). */
const CTX_PACKET_FIELDS: Readonly<Record<number, string>> = { 0: 'data', 4: 'data_end' };
const CTX_FIELD_NAMES: Readonly<Record<number, string>> = {
  0: 'data', 4: 'data_end', 8: 'data_meta', 12: 'ingress_ifindex', 16: 'rx_queue_index', 20: 'egress_ifindex',
};
/**
 * The bits of a helper's flags a card's pinned value speaks for: perf_event_output's low 32 bits
 * pick the CPU (BPF_F_INDEX_MASK) while the upper 32 carry the sample length (BPF_F_CTXLEN_MASK),
 * so the NFP checks only the low half (nfp_bpf_check_helper_call). Whole register elsewhere.
 */
const FLAGS_MASK: Readonly<Record<number, bigint>> = { [HelperId.PERF_EVENT_OUTPUT]: 0xffff_ffffn };

const hex = (v: bigint) => `0x${v.toString(16)}`;
const roundUp = (v: number, to: number) => Math.ceil(v / to) * to;
const rangeText = (r: RegState) => (isConst(r.s) ? String(BigInt.asIntN(64, constValue(r.s))) : `[${r.s.smin}, ${r.s.smax}]`);

function insnClass({ records, profile: p, program }: RuleInput): Reason[] {
  const out: Reason[] = [];
  const isa = p.isa;
  for (const { index: slot, insn, kind: k } of reached(records)) {
    const no = (what: string, suggestion?: string) => out.push({ rule: 'insn-class', slot, message: `${what} is not supported by ${p.name}`, ...(suggestion ? { suggestion } : {}) });
    if (k.k === 'alu' && k.width === 32 && !isa.alu32) no('32-bit ALU (alu32)', 'compile without -mcpu=v3/alu32');
    if (k.k === 'jcond' && k.width === 32 && !isa.jmp32) no('32-bit conditional jump (jmp32)', 'compile with -mcpu=v2');
    if ((k.k === 'alu' && k.op === 'movsx') || (k.k === 'ldx' && k.signed)) { if (!isa.signExtend) no('a sign-extending move or load (cpu v4)', 'compile with -mcpu=v3 or lower'); }
    if (k.k === 'end' && k.order === 'bswap' && !isa.bswap) no('bswap (cpu v4)', 'compile with -mcpu=v3 or lower');
    if (k.k === 'alu' && (k.op === 'sdiv' || k.op === 'smod') && !isa.signedDiv) no(`signed ${k.op === 'sdiv' ? 'division' : 'modulo'} (cpu v4)`);
    if (k.k === 'call' && k.target === 'local' && !isa.calls) no('a bpf-to-bpf call', 'mark the function __always_inline');
    if (k.k === 'call' && k.target === 'helper' && insn.imm === HelperId.TAIL_CALL && !isa.tailCalls) no('a tail call (bpf_tail_call)');
    if (k.k === 'call' && k.target === 'kfunc') {
      const name = program.kfuncs?.[insn.imm]?.name ?? `#${insn.imm}`;
      out.push({ rule: 'kfunc', slot, message: `kernel function ${name} runs only in the host kernel, not on ${p.name}` });
    }
    const target = k.k === 'ja' ? slot + (k.long ? insn.imm : insn.off) + 1 : k.k === 'jcond' || k.k === 'maygoto' ? slot + insn.off + 1 : undefined;
    if (target !== undefined && target <= slot && !isa.loops) no(`a loop (back-edge to insn ${target})`, 'unroll it (#pragma unroll) with a constant bound');
  }
  return out;
}

function arithmetic({ records, profile: p }: RuleInput): Reason[] {
  const out: Reason[] = [];
  for (const r of reached(records)) {
    const { index: slot, kind: k, insn } = r;
    if (k.k !== 'alu' || !(k.op === 'mul' || k.op === 'div' || k.op === 'mod' || k.op === 'sdiv' || k.op === 'smod')) continue;
    const dst = r.reads[insn.dst]!.seen;
    const src = r.reads[k.useReg ? insn.src : IMM]!.seen;
    const wide = k.width === 64;
    if (k.op === 'mul') {
      if (p.isa.mul === 'none') out.push({ rule: 'mul', slot, message: `multiplication is not supported by ${p.name}`, suggestion: 'use shifts and adds' });
      else if (p.isa.mul === 'u32' && wide) {
        const big = [...dst.states, ...src.states].find((r) => r.type === 'scalar' && r.s.umax > U32_MAX);
        if (big) out.push({ rule: 'mul', slot, message: `multiply only within u32 on ${p.name}: an operand may be up to ${hex(big.s.umax)}`, suggestion: 'mask the operands to 32 bits or use a 32-bit multiply' });
      }
      continue;
    }
    if (k.op === 'sdiv' || k.op === 'smod') continue; // insn-class covers them
    const what = k.op === 'div' ? 'division' : 'modulo';
    if (p.isa.div === 'none') {
      out.push({ rule: 'div', slot, message: `${what} is not supported by ${p.name}`, suggestion: 'divide by a power of two with a shift' });
    } else if (p.isa.div === 'const-u32') {
      const notConst = src.states.find((r) => r.type !== 'scalar' || !isConst(r.s) || constValue(r.s) > U32_MAX);
      if (notConst) out.push({ rule: 'div', slot, message: `${what} only by a constant that fits in u32 on ${p.name}: the divisor is ${rangeText(notConst)}` });
      const big = wide ? dst.states.find((r) => r.type === 'scalar' && r.s.umax > U32_MAX) : undefined;
      if (big) out.push({ rule: 'div', slot, message: `${what} only of a u32 dividend on ${p.name}: it may be up to ${hex(big.s.umax)}`, suggestion: 'use a 32-bit division' });
    }
  }
  return out;
}

function memory({ records, profile: p }: RuleInput): Reason[] {
  const out: Reason[] = [];
  for (const rec of reached(records)) {
    const { index: slot, insn, kind: k } = rec;
    if (k.k !== 'ldx' && k.k !== 'st' && k.k !== 'stx' && k.k !== 'atomic') continue;
    const seen = baseOf(rec)!;
    const types = [...new Set(seen.states.map((r) => r.type))];
    if (types.length > 1) {
      out.push({ rule: 'pointer-type', slot, message: `this access goes through different pointer types on different paths (${types.join(', ')}): the card needs one per instruction`, suggestion: 'split the access so each path has its own load or store' });
    }
    for (const t of types) {
      if (!CARD_POINTERS.has(t)) out.push({ rule: 'pointer-type', slot, message: `access through a ${t} pointer is not supported on ${p.name}` });
    }
    const stackOffsets = new Set<string>();
    for (const r of seen.states) {
      if (r.type === 'fp') stackOffsets.add(isConst(r.s) ? String(r.off + Number(BigInt.asIntN(64, constValue(r.s)))) : 'variable');
    }
    if (stackOffsets.has('variable')) out.push({ rule: 'stack-offset', slot, message: `stack access at a variable offset is not supported on ${p.name}` });
    else if (stackOffsets.size > 1) out.push({ rule: 'stack-offset', slot, message: `this stack access changes location between paths (fp${[...stackOffsets].join(', fp')}): the card needs one constant offset` });
    const size = 'size' in k ? k.size : 0;
    if (k.k === 'ldx' && !p.isa.ctxAllFields) {
      for (const r of seen.states) {
        const off = r.off + insn.off;
        if (r.type !== 'ctx' || CTX_PACKET_FIELDS[off] !== undefined) continue;
        const field = CTX_FIELD_NAMES[off] ?? `offset ${off}`;
        out.push({ rule: 'ctx-load', slot, message: `reads xdp_md.${field}: ${p.name} gives a program only data and data_end` });
        break;
      }
    }
    if (k.k === 'st' || k.k === 'stx') {
      for (const r of seen.states) {
        if (r.type !== 'ctx') continue;
        const off = r.off + insn.off;
        if (off !== RX_QUEUE_INDEX) out.push({ rule: 'ctx-store', slot, message: `store to the context at offset ${off}: only rx_queue_index may be written` });
        else if (!p.queueSelect) out.push({ rule: 'ctx-store', slot, message: `${p.name} cannot select the receive queue (no QUEUE_SELECT): rx_queue_index may not be written` });
      }
    }
    if (k.k === 'atomic') {
      const isa = p.isa.atomics;
      if (!isa.ops.includes(k.op)) out.push({ rule: 'atomic', slot, message: `atomic ${k.op} is not supported by ${p.name}${isa.ops.length ? ` (only ${isa.ops.join(', ')})` : ''}` });
      if (k.fetch && !isa.fetch) out.push({ rule: 'atomic', slot, message: `atomic operations that fetch the old value are not supported by ${p.name}`, suggestion: 'use __sync_fetch_and_add without using its result' });
      for (const t of types) {
        if (t !== 'map_value' && t !== 'fp') continue;
        const on = t === 'map_value' ? 'map_value' : 'stack';
        if (!isa.on.includes(on)) out.push({ rule: 'atomic', slot, message: `atomic operations on ${on === 'stack' ? 'the stack' : 'map values'} are not supported by ${p.name}` });
      }
    }
    for (const r of seen.states) {
      if (r.type !== 'pkt') continue;
      const end = r.off + insn.off + size + Number(r.s.umax > 0xffffn ? 0xffffn : r.s.umax);
      if (end > p.packetSplitBytes) {
        out.push({ rule: 'packet-split', slot, message: `packet access up to byte ${end} is beyond the ${p.packetSplitBytes} bytes ${p.name} keeps on-chip` });
        break;
      }
    }
  }
  return out;
}

function helpers({ records, profile: p }: RuleInput): Reason[] {
  const out: Reason[] = [];
  const offered = new Map(p.helpers.map((h) => [h.id, h]));
  for (const rec of reached(records)) {
    if (rec.kind.k !== 'call' || rec.kind.target !== 'helper') continue;
    const slot = rec.index;
    const args = [1, 2, 3, 4, 5].map((r) => rec.reads[r]!.seen);
    const id = rec.insn.imm;
    const name = helperName(id) ?? `helper ${id}`;
    const cap = offered.get(id);
    if (!cap) {
      out.push({ rule: 'helper', slot, message: `${name} (id ${id}) is not available on ${p.name}` });
      continue;
    }
    if (cap.flags !== undefined) {
      const reg = helperSpec(id)?.flagsArg;
      const mask = FLAGS_MASK[id] ?? 0xffff_ffff_ffff_ffffn;
      const pinned = (r: RegState): boolean =>
        r.type === 'scalar' && (r.s.var.mask & mask) === 0n && (r.s.var.value & mask) === BigInt(cap.flags!);
      const bad = reg !== undefined ? args[reg - 1]!.states.find((r) => !pinned(r)) : undefined;
      if (bad) {
        const part = mask === 0xffff_ffffn ? 'the low 32 bits of the flags' : 'flags';
        out.push({
          rule: 'helper-arg', slot, message: `${name}: ${part} must be ${cap.flags === BPF_F_CURRENT_CPU ? 'BPF_F_CURRENT_CPU' : hex(BigInt(cap.flags))} on ${p.name}, not ${rangeText(bad)}`,
        });
      }
    }
    // Map keys and values (the prototype's key/value arguments) come from the stack (nfp_bpf_stack_arg_ok).
    const proto = helperSpec(id)?.proto;
    const keyValueArgs = (proto?.args ?? []).flatMap((t, a) => (t === 'key' || t === 'value' || t === 'uninit_value' ? [a] : []));
    for (const a of keyValueArgs) {
      const bad = args[a]!.states.find((r) => r.type !== 'fp' || !isConst(r.s) || (r.off + Number(BigInt.asIntN(64, constValue(r.s)))) % 4 !== 0);
      if (bad) {
        out.push({
          rule: 'helper-arg', slot, message: `${name}: the ${proto!.args[a] === 'key' ? 'key' : 'value'} must be on the stack at a constant 4-byte aligned offset on ${p.name} (it is ${bad.type === 'fp' ? 'a variable or unaligned stack pointer' : `a ${bad.type} pointer`})`,
          suggestion: 'copy it into a local variable first',
        });
      }
    }
    // The nfp driver offloads adjust_head only when the firmware advertises a window (off_max > 0) and
    // keeps no metadata in front of the packet; offsets beyond the guaranteed ones are checked at run
    // time (the call then fails), not refused.
    if (id === HelperId.XDP_ADJUST_HEAD && p.adjustHead && p.adjustHead.offMax === 0) {
      out.push({ rule: 'adjust-head', slot, message: `${p.name}'s firmware gives bpf_xdp_adjust_head no room (off_max 0): not supported` });
    } else if (id === HelperId.XDP_ADJUST_HEAD && p.adjustHead && !p.adjustHead.noMeta) {
      out.push({ rule: 'adjust-head', slot, message: `${p.name}'s firmware keeps metadata in front of the packet; bpf_xdp_adjust_head cannot be offloaded then` });
    }
  }
  return out;
}

/**
 * The maps the card itself would hold (what its map count and entry limits apply to): the program's
 * maps less those that stay on the host (with a helper the card offers for them) and those of a type
 * the card lacks (reported as map-type instead).
 */
export function cardMaps(records: ProgramRecords, profile: CardProfile, maps: readonly MapDef[]): MapDef[] {
  const offered = new Set(profile.helpers.map((h) => h.id));
  return [...records.maps].sort((a, b) => a - b).map((i) => maps[i]).filter((m): m is MapDef => {
    if (!m) return false;
    const type = mapTypeName(m.type);
    const host = HOST_MAPS[type];
    return !(host !== undefined && offered.has(host)) && profile.maps.types.includes(type);
  });
}

function mapRules({ records, profile: p, maps }: RuleInput): Reason[] {
  const out: Reason[] = [];
  let count = 0;
  let entries = 0;
  const offered = new Set(p.helpers.map((h) => h.id));
  for (const i of [...records.maps].sort((a, b) => a - b)) {
    const m = maps[i];
    if (!m) continue;
    const type = mapTypeName(m.type);
    const host = HOST_MAPS[type];
    if (host !== undefined && offered.has(host)) continue;
    if (!p.maps.types.includes(type)) {
      const sub = MAP_SUBSTITUTES[type];
      out.push({
        rule: 'map-type', message: `map '${m.name}': ${type} is not offloadable on ${p.name}`,
        ...(sub && p.maps.types.includes(sub) ? { suggestion: `use ${sub}` } : {}),
      });
      continue;
    }
    count++;
    entries += m.maxEntries;
    if (m.keySize > p.maps.maxKeySize) out.push({ rule: 'map-limit', message: `map '${m.name}': key of ${m.keySize} bytes is over ${p.name}'s ${p.maps.maxKeySize}` });
    if (m.valueSize > p.maps.maxValueSize) out.push({ rule: 'map-limit', message: `map '${m.name}': value of ${m.valueSize} bytes is over ${p.name}'s ${p.maps.maxValueSize}` });
    const elem = roundUp(m.keySize, 8) + roundUp(m.valueSize, 8);
    if (elem > p.maps.maxElemSize) out.push({ rule: 'map-limit', message: `map '${m.name}': element of ${elem} bytes (key and value each rounded up to 8) is over ${p.name}'s ${p.maps.maxElemSize}` });
  }
  if (count > p.maps.maxMaps) out.push({ rule: 'map-limit', message: `${count} maps, ${p.name} holds ${p.maps.maxMaps}` });
  if (entries > p.maps.maxEntries) out.push({ rule: 'map-limit', message: `${entries} map entries in all, ${p.name} holds ${p.maps.maxEntries}` });
  return out;
}

function actions({ records, profile: p }: RuleInput): Reason[] {
  const out: Reason[] = [];
  const missing = XDP_ACTION_NAMES.map((name, code) => [name, code] as const).filter(([name]) => !p.actions.includes(name as XdpActionName));
  if (missing.length === 0) return out;
  for (const rec of reached(records)) {
    if (!rec.programExit) continue;
    const slot = rec.index;
    for (const r of rec.reads[0]!.seen.states) {
      if (r.type !== 'scalar') continue;
      const may = missing.filter(([, code]) => r.s.umin <= BigInt(code) && BigInt(code) <= r.s.umax);
      if (may.length === 0) continue;
      // A value the verifier cannot pin to one action is no reason by itself: the card turns codes
      // it does not carry out into a counted drop (the NFP's outro), as the kernel does with unknown ones.
      if (!isConst(r.s)) continue;
      const names = may.map(([n]) => `XDP_${n.toUpperCase()}`).join(', ');
      out.push({ rule: 'action', slot, message: `returns ${names}, which ${p.name} cannot carry out (it does ${p.actions.join(', ')})` });
      break;
    }
  }
  return out;
}

/**
 * Programs no device can run, whatever the card: multi-buffer programs (BPF_F_XDP_HAS_FRAGS, the
 * `xdp.frags` sections) — the kernel allows frags only for dev-bound programs that are not
 * offloaded (bpf_prog_dev_bound_init, kernel/bpf/offload.c) — and devmap/cpumap programs, which
 * run on the host after a redirect and cannot be attached to a device (dev_xdp_attach).
 */
function attach({ program }: RuleInput): Reason[] {
  const out: Reason[] = [];
  const t = program.type;
  if (t.frags) {
    out.push({
      rule: 'attach', message: `section ${program.section} loads the program with BPF_F_XDP_HAS_FRAGS (multi-buffer packets): the kernel does not offload such programs`,
      suggestion: 'put the program in section "xdp" to offload it (it then sees only the first buffer)',
    });
  }
  if (t.attach === 'XDP_DEVMAP' || t.attach === 'XDP_CPUMAP') {
    const map = t.attach === 'XDP_DEVMAP' ? 'devmap' : 'cpumap';
    out.push({ rule: 'attach', message: `section ${program.section} is a ${map} program (expected attach type BPF_${t.attach}): it runs on the host after a redirect and cannot be attached to a device` });
  }
  return out;
}

/** Stack per call chain, each function's frame rounded up to the card's frame size. */
export function stackUse(records: ProgramRecords, frameBytes: number): number {
  let worst = 0;
  for (const chain of records.chains) {
    const total = chain.split('>').reduce((sum, f) => sum + roundUp(records.funcDepth.get(Number(f)) ?? 0, frameBytes), 0);
    worst = Math.max(worst, total);
  }
  return worst;
}

/**
 * Card instructions for the program, estimated where the JIT does not count them (a card it does
 * not translate for, or a program it cannot translate): a 32-bit card needs about 2.5 per eBPF
 * instruction (the NFP's 2-3, DESIGN.md), a VLIW card packs about 2.5 eBPF instructions into one
 * (hXDP's 2-3x fewer).
 */
export function estimatedCardInsns(program: Program, p: CardProfile): number {
  const ebpf = program.insns.length;
  const perEbpf = (p.isa.wordBits === 32 ? 2.5 : 1) / (p.timing.issueWidth > 1 ? 2.5 : 1);
  return Math.ceil(ebpf * perEbpf);
}

function limits({ records, profile: p, program, cardInsns }: RuleInput): Reason[] {
  const out: Reason[] = [];
  const stack = stackUse(records, p.stack.frameBytes);
  if (stack > p.stack.bytes) out.push({ rule: 'stack-size', message: `stack of ${stack} bytes on the deepest call chain (frames of ${p.stack.frameBytes}) is over ${p.name}'s ${p.stack.bytes}` });
  if (cardInsns !== undefined) {
    if (cardInsns > p.maxInsns) out.push({ rule: 'program-size', message: `program too long: ${cardInsns} card instructions (limit ${p.maxInsns})` });
    return out;
  }
  const size = estimatedCardInsns(program, p);
  if (size > p.maxInsns) out.push({ rule: 'program-size', message: `about ${size} card instructions (an estimate from ${program.insns.length} eBPF instructions) is over ${p.name}'s ${p.maxInsns}` });
  return out;
}

/** The rules, in the order their reasons are listed. */
export const OFFLOAD_RULES: readonly ((input: RuleInput) => Reason[])[] = [
  attach, insnClass, helpers, mapRules, memory, arithmetic, actions, limits,
];

/** Every reason the card cannot run the program, in instruction order (whole-program ones last). */
export function checkOffload(input: RuleInput): Reason[] {
  const reasons = OFFLOAD_RULES.flatMap((rule) => rule(input));
  return reasons.sort((a, b) => (a.slot ?? Infinity) - (b.slot ?? Infinity));
}

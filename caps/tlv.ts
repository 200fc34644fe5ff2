/**
 * A card's capability area, written and read the way Netronome NFP firmware
 * exposes BPF capabilities and the Linux NFP driver parses them
 * (drivers/net/ethernet/netronome/nfp/bpf/fw.h for the record types and
 * layouts, bpf/main.c nfp_bpf_parse_capabilities for the rules), plus the BPF
 * fields of the control BAR (control-bar.ts, after nfp_net_ctrl.h).
 *
 * The area is a sequence of records: le32 type, le32 length (of the value, the
 * 8-byte header excluded), value. A CardProfile goes into NFP's records where
 * NFP has one (FUNC, ADJUST_HEAD, MAPS, RANDOM, QUEUE_SELECT, ADJUST_TAIL,
 * ABI_VERSION, CMSG_MULTI_ENT) and into this project's records, types 0x10000
 * up, for everything else. Decoding follows the driver on malformed input
 * (unknown types skipped, overruns and leftovers refused, short NFP records
 * refused, ADJUST_HEAD out of immediate range disabled, ABI outside 2-3
 * zeroed) and refuses anything malformed in our own records.
 * Layouts, tables and rules: docs/caps-tlv.md.
 */
import { CapsError } from './caps-error.js';
import {
  barFieldText, decodeBar, encodeBar, inlMtuUnitsFor, maxLenFor, stackUnitsFor, type BarFieldName, type BarFields,
} from './control-bar.js';
import {
  ATOMIC_OP_NAMES, XDP_ACTION_NAMES, type AdjustHeadCaps, type AtomicOpName, type CardProfile, type HelperCap,
  type IsaCaps, type MemoryLevel, type TimingModel, type XdpActionName,
} from './profile.js';
import { MAP_TYPE_NAMES } from '../xdp/maps/map-types.js';
import { HelperId, helperName } from '../xdp/helpers/helper-registry.js';

export interface CardArea {
  /** The capability TLV area (a sequence of le32 type, le32 length, value; length excludes the 8-byte header). */
  readonly tlv: Uint8Array;
  /** The BPF fields of the control BAR (control-bar.ts: BAR_FIELDS). */
  readonly bar: Uint8Array;
}

export interface DecodedArea {
  readonly profile: CardProfile;
  readonly warnings: readonly string[];
}

// ------------------------------------------------------------------ record types

/** Record type numbers: NFP's (enum bpf_cap_tlv_type, bpf/fw.h) and this project's (0x10000 up). */
export const CapType = {
  FUNC: 1,
  ADJUST_HEAD: 2,
  MAPS: 3,
  RANDOM: 4,
  QUEUE_SELECT: 5,
  ADJUST_TAIL: 6,
  ABI_VERSION: 7,
  CMSG_MULTI_ENT: 8,
  NAME: 0x10000,
  VENDOR: 0x10001,
  MODEL: 0x10002,
  DESCRIPTION: 0x10003,
  ISA: 0x10010,
  ATOMICS: 0x10011,
  HELPER: 0x10020,
  MAP_TYPES: 0x10030,
  LIMITS: 0x10040,
  MEMORY: 0x10050,
  TIMING: 0x10051,
  ACTIONS: 0x10060,
} as const;

export type CapTypeName = keyof typeof CapType;

export interface RecordInfo {
  readonly name: CapTypeName;
  readonly origin: 'nfp' | 'project';
  /**
   * NFP records: the struct size; a shorter record is refused, a longer one read (the driver checks only `<`).
   * Project records: the fixed part; the full length must be exactly what the content says.
   */
  readonly minLength: number;
  /** Project records that must appear exactly once. */
  readonly required: boolean;
}

const info = (name: CapTypeName, origin: RecordInfo['origin'], minLength: number, required = false): RecordInfo =>
  ({ name, origin, minLength, required });

/** Words of the TIMING record: clock, parallelism, memory roles, costs, datapath, firmware, queue, links, mailbox. */
const TIMING_WORDS = 27;

/** Every record type this module knows, by number. */
export const CAP_RECORDS: ReadonlyMap<number, RecordInfo> = new Map<number, RecordInfo>([
  [CapType.FUNC, info('FUNC', 'nfp', 8)],
  [CapType.ADJUST_HEAD, info('ADJUST_HEAD', 'nfp', 20)],
  [CapType.MAPS, info('MAPS', 'nfp', 24)],
  [CapType.RANDOM, info('RANDOM', 'nfp', 0)],
  [CapType.QUEUE_SELECT, info('QUEUE_SELECT', 'nfp', 0)],
  [CapType.ADJUST_TAIL, info('ADJUST_TAIL', 'nfp', 0)],
  [CapType.ABI_VERSION, info('ABI_VERSION', 'nfp', 4)],
  [CapType.CMSG_MULTI_ENT, info('CMSG_MULTI_ENT', 'nfp', 0)],
  [CapType.NAME, info('NAME', 'project', 4, true)],
  [CapType.VENDOR, info('VENDOR', 'project', 4, true)],
  [CapType.MODEL, info('MODEL', 'project', 4, true)],
  [CapType.DESCRIPTION, info('DESCRIPTION', 'project', 4, true)],
  [CapType.ISA, info('ISA', 'project', 16, true)],
  [CapType.ATOMICS, info('ATOMICS', 'project', 12, true)],
  [CapType.HELPER, info('HELPER', 'project', 16)],
  [CapType.MAP_TYPES, info('MAP_TYPES', 'project', 4)],
  [CapType.LIMITS, info('LIMITS', 'project', 16, true)],
  [CapType.MEMORY, info('MEMORY', 'project', 24)],
  [CapType.TIMING, info('TIMING', 'project', TIMING_WORDS * 4, true)],
  [CapType.ACTIONS, info('ACTIONS', 'project', 4, true)],
]);

/** Our records that may appear once at most (HELPER and MEMORY repeat, one per helper / memory level). */
const SINGLETONS: ReadonlySet<number> = new Set([
  CapType.NAME, CapType.VENDOR, CapType.MODEL, CapType.DESCRIPTION, CapType.ISA, CapType.ATOMICS,
  CapType.MAP_TYPES, CapType.LIMITS, CapType.TIMING, CapType.ACTIONS,
]);

/** NFP_BPF_ADJUST_HEAD_NO_META (bpf/fw.h). */
export const ADJUST_HEAD_NO_META = 1;
/** UR_REG_IMM_MAX (nfp_asm.h): the driver wants off_min/off_max to fit it as unsigned immediates (FIELD_FIT). */
export const UR_REG_IMM_MAX = 0xff;
/** BPF ABI versions the driver accepts in ABI_VERSION (main.c); it assumes 2 when the record is missing. */
export const ABI_MIN = 2;
export const ABI_MAX = 3;
export const ABI_DEFAULT = 2;

/** The helpers whose FUNC record the driver reads (nfp_bpf_parse_cap_func); it ignores FUNC for any other id. */
export const FUNC_HELPERS: ReadonlySet<number> = new Set([
  HelperId.MAP_LOOKUP_ELEM, HelperId.MAP_UPDATE_ELEM, HelperId.MAP_DELETE_ELEM, HelperId.PERF_EVENT_OUTPUT,
]);
/** Helpers that exist exactly when their NFP record does; a HELPER record only adds flags/address to them. */
const RECORD_HELPERS: ReadonlyMap<number, CapTypeName> = new Map([
  [HelperId.GET_PRANDOM_U32, 'RANDOM'],
  [HelperId.XDP_ADJUST_HEAD, 'ADJUST_HEAD'],
  [HelperId.XDP_ADJUST_TAIL, 'ADJUST_TAIL'],
] as const);

/** Enumerations of our records: the index in each list is the number written. */
const MUL_KINDS: readonly IsaCaps['mul'][] = ['none', 'u32', 'full'];
const DIV_KINDS: readonly IsaCaps['div'][] = ['none', 'const-u32', 'full'];
const ATOMIC_MEMORIES: readonly IsaCaps['atomics']['on'][number][] = ['map_value', 'stack'];
/** ISA features bitmask, bit n = FEATURES[n]. */
const FEATURES = ['signedDiv', 'alu32', 'jmp32', 'signExtend', 'bswap', 'calls', 'tailCalls', 'loops', 'ctxAllFields'] as const;
/** HELPER `present` bits. */
const HELPER_HAS_FLAGS = 1;
const HELPER_HAS_ADDRESS = 2;
/** Map types the MAPS bitmask can hold: bit n for type n, n < 32. */
const MAPS_MASK_BITS = 32;

const U32_MAX = 0xffffffff;
const HEADER = 8;

const hex = (n: number): string => `0x${n.toString(16)}`;
const typeText = (type: number): string => {
  const r = CAP_RECORDS.get(type);
  return r ? `${r.name} (${hex(type)})` : hex(type);
};
const pad4 = (n: number): number => (n + 3) & ~3;

// ------------------------------------------------------------------ encoding

/** Collects records; each value is a byte array already laid out. */
class AreaWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  record(type: number, value: Uint8Array = new Uint8Array(0)): void {
    const head = new Uint8Array(HEADER);
    const v = new DataView(head.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, value.length, true);
    this.parts.push(head, value);
    this.size += HEADER + value.length;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** A value made of le32 words (and strings): the builder checks every number against its field. */
class ValueBuilder {
  private readonly bytes: number[] = [];

  u32(v: number, path: string): this {
    if (!Number.isInteger(v) || v < 0 || v > U32_MAX) {
      throw new CapsError(`must be an integer from 0 to ${U32_MAX}, got ${v}`, { path });
    }
    return this.word(v);
  }

  i32(v: number, path: string): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new CapsError(`must be a signed 32-bit integer, got ${v}`, { path });
    }
    return this.word(v >>> 0);
  }

  string(s: string, path: string): this {
    if (typeof s !== 'string' || s.length === 0) throw new CapsError('must be a non-empty string', { path });
    const utf8 = new TextEncoder().encode(s);
    if (new TextDecoder('utf-8', { ignoreBOM: true }).decode(utf8) !== s) throw new CapsError('is not well-formed Unicode', { path });
    this.word(utf8.length);
    for (const b of utf8) this.bytes.push(b);
    while (this.bytes.length % 4 !== 0) this.bytes.push(0);
    return this;
  }

  build(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }

  private word(v: number): this {
    this.bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }
}

const values = (): ValueBuilder => new ValueBuilder();

/** Index of `v` in `list`, or a CapsError at `path`. */
function indexIn<T>(list: readonly T[], v: T, path: string, what: string): number {
  const i = list.indexOf(v);
  if (i < 0) throw new CapsError(`unknown ${what} ${JSON.stringify(v)}`, { path });
  return i;
}

/** A list of enum values, each at most once, as their indices. */
function enumList<T>(list: readonly T[], vs: readonly T[], path: string, what: string): number[] {
  const out: number[] = [];
  vs.forEach((v, i) => {
    const n = indexIn(list, v, `${path}[${i}]`, what);
    if (out.includes(n)) throw new CapsError(`${what} ${JSON.stringify(v)} listed twice`, { path: `${path}[${i}]` });
    out.push(n);
  });
  return out;
}

/** The capability area and control BAR a card with this profile exposes. Throws CapsError (with a JSON path) for a profile they cannot hold. */
export function encodeCardArea(p: CardProfile): CardArea {
  const w = new AreaWriter();

  w.record(CapType.ABI_VERSION, values().u32(p.abiVersion, '$.abiVersion').build());
  w.record(CapType.NAME, values().string(p.name, '$.name').build());
  w.record(CapType.VENDOR, values().string(p.vendor, '$.vendor').build());
  w.record(CapType.MODEL, values().string(p.model, '$.model').build());
  w.record(CapType.DESCRIPTION, values().string(p.description, '$.description').build());

  const isa = p.isa;
  if (isa.wordBits !== 32 && isa.wordBits !== 64) {
    throw new CapsError(`must be 32 or 64, got ${String(isa.wordBits)}`, { path: '$.isa.wordBits' });
  }
  let features = 0;
  FEATURES.forEach((f, bit) => {
    if (isa[f]) features |= 1 << bit;
  });
  w.record(CapType.ISA, values()
    .u32(isa.wordBits, '$.isa.wordBits')
    .u32(indexIn(MUL_KINDS, isa.mul, '$.isa.mul', 'multiply kind'), '$.isa.mul')
    .u32(indexIn(DIV_KINDS, isa.div, '$.isa.div', 'divide kind'), '$.isa.div')
    .u32(features >>> 0, '$.isa')
    .build());
  const ops = enumList<AtomicOpName>(ATOMIC_OP_NAMES, isa.atomics.ops, '$.isa.atomics.ops', 'atomic op');
  const on = enumList(ATOMIC_MEMORIES, isa.atomics.on, '$.isa.atomics.on', 'atomic memory');
  const atomics = values().u32(isa.atomics.fetch ? 1 : 0, '$.isa.atomics.fetch')
    .u32(ops.length, '$.isa.atomics.ops').u32(on.length, '$.isa.atomics.on');
  for (const n of ops) atomics.u32(n, '$.isa.atomics.ops');
  for (const n of on) atomics.u32(n, '$.isa.atomics.on');
  w.record(CapType.ATOMICS, atomics.build());

  encodeHelpers(w, p);

  const mapTypes = p.maps.types.map((name, i) => {
    const n = MAP_TYPE_NAMES.indexOf(name);
    if (n <= 0) throw new CapsError(`unknown map type ${JSON.stringify(name)}`, { path: `$.maps.types[${i}]` });
    return n;
  });
  mapTypes.forEach((n, i) => {
    if (mapTypes.indexOf(n) !== i) throw new CapsError(`map type ${MAP_TYPE_NAMES[n]} listed twice`, { path: `$.maps.types[${i}]` });
  });
  let mask = 0;
  for (const n of mapTypes) if (n < MAPS_MASK_BITS) mask |= 1 << n;
  w.record(CapType.MAPS, values()
    .u32(mask >>> 0, '$.maps.types')
    .u32(p.maps.maxMaps, '$.maps.maxMaps')
    .u32(p.maps.maxEntries, '$.maps.maxEntries')
    .u32(p.maps.maxKeySize, '$.maps.maxKeySize')
    .u32(p.maps.maxValueSize, '$.maps.maxValueSize')
    .u32(p.maps.maxElemSize, '$.maps.maxElemSize')
    .build());
  const list = values().u32(mapTypes.length, '$.maps.types');
  for (const n of mapTypes) list.u32(n, '$.maps.types');
  w.record(CapType.MAP_TYPES, list.build());

  w.record(CapType.LIMITS, values()
    .u32(p.maxInsns, '$.maxInsns')
    .u32(p.stack.bytes, '$.stack.bytes')
    .u32(p.stack.frameBytes, '$.stack.frameBytes')
    .u32(p.packetSplitBytes, '$.packetSplitBytes')
    .build());

  const t = p.timing;
  const memNames = t.memories.map((m) => m.name);
  t.memories.forEach((m, i) => {
    const path = `$.timing.memories[${i}]`;
    if (memNames.indexOf(m.name) !== i) throw new CapsError(`memory ${JSON.stringify(m.name)} listed twice`, { path });
    w.record(CapType.MEMORY, values()
      .u32(m.latencyCycles, `${path}.latencyCycles`)
      .u32(m.writeCycles, `${path}.writeCycles`)
      .u32(m.atomicCycles, `${path}.atomicCycles`)
      .u32(m.serviceCycles, `${path}.serviceCycles`)
      .u32(m.bytes, `${path}.bytes`)
      .string(m.name, `${path}.name`)
      .build());
  });
  const memIndex = (name: string, path: string): number => indexIn(memNames, name, path, 'memory');
  w.record(CapType.TIMING, values()
    .u32(t.clockKHz, '$.timing.clockKHz')
    .u32(t.cores, '$.timing.cores')
    .u32(t.threadsPerCore, '$.timing.threadsPerCore')
    .u32(t.issueWidth, '$.timing.issueWidth')
    .u32(memIndex(t.packetMemory, '$.timing.packetMemory'), '$.timing.packetMemory')
    .u32(memIndex(t.mapMemory, '$.timing.mapMemory'), '$.timing.mapMemory')
    .u32(memIndex(t.stackMemory, '$.timing.stackMemory'), '$.timing.stackMemory')
    .u32(t.costs.alu, '$.timing.costs.alu')
    .u32(t.costs.mul, '$.timing.costs.mul')
    .u32(t.costs.div, '$.timing.costs.div')
    .u32(t.costs.branch, '$.timing.costs.branch')
    .u32(t.costs.helperCall, '$.timing.costs.helperCall')
    .u32(t.datapath.rxCycles, '$.timing.datapath.rxCycles')
    .u32(t.datapath.txCycles, '$.timing.datapath.txCycles')
    .u32(t.datapath.passCycles, '$.timing.datapath.passCycles')
    .u32(t.datapath.dropCycles, '$.timing.datapath.dropCycles')
    .u32(t.firmware.lookupCycles, '$.timing.firmware.lookupCycles')
    .u32(t.firmware.updateCycles, '$.timing.firmware.updateCycles')
    .u32(t.firmware.deleteCycles, '$.timing.firmware.deleteCycles')
    .u32(t.firmware.lockCycles, '$.timing.firmware.lockCycles')
    .u32(t.ingressQueue, '$.timing.ingressQueue')
    .u32(t.linkMbps, '$.timing.linkMbps')
    .u32(t.dma.cycles, '$.timing.dma.cycles')
    .u32(t.dma.bytesPerCycle, '$.timing.dma.bytesPerCycle')
    .u32(t.pcie.mbps, '$.timing.pcie.mbps')
    .u32(t.pcie.latencyNs, '$.timing.pcie.latencyNs')
    .u32(t.mailboxNs, '$.timing.mailboxNs')
    .build());

  const actions = enumList<XdpActionName>(XDP_ACTION_NAMES, p.actions, '$.actions', 'XDP action');
  const acts = values().u32(actions.length, '$.actions');
  for (const n of actions) acts.u32(n, '$.actions');
  w.record(CapType.ACTIONS, acts.build());

  if (p.queueSelect) w.record(CapType.QUEUE_SELECT);
  if (p.cmsgMultiEnt) w.record(CapType.CMSG_MULTI_ENT);

  const bar = encodeBar({
    abi: p.abiVersion <= 0xff ? p.abiVersion : 0,
    maxLen: maxLenFor(p.maxInsns),
    stackUnits: stackUnitsFor(p.stack.bytes),
    inlMtuUnits: inlMtuUnitsFor(p.packetSplitBytes),
  });
  return { tlv: w.finish(), bar };
}

/** Each helper in profile order: its NFP record if it has one, then a HELPER record for whatever that does not carry. */
function encodeHelpers(w: AreaWriter, p: CardProfile): void {
  const seen = new Set<number>();
  const hasAdjustHead = p.helpers.some((h) => h.id === HelperId.XDP_ADJUST_HEAD);
  if (hasAdjustHead !== (p.adjustHead !== undefined)) {
    throw new CapsError(`adjustHead must be present exactly when helper ${HelperId.XDP_ADJUST_HEAD} (bpf_xdp_adjust_head) is listed`, { path: '$.adjustHead' });
  }
  p.helpers.forEach((h, i) => {
    const path = `$.helpers[${i}]`;
    if (!Number.isInteger(h.id) || helperName(h.id) === undefined) {
      throw new CapsError(`unknown helper id ${h.id}`, { path: `${path}.id` });
    }
    if (h.name !== helperName(h.id)) {
      throw new CapsError(`name ${JSON.stringify(h.name)} does not match helper ${h.id} (${helperName(h.id)})`, { path: `${path}.name` });
    }
    if (seen.has(h.id)) throw new CapsError(`helper ${h.id} listed twice`, { path: `${path}.id` });
    seen.add(h.id);

    let addressDone = false;
    let nfpRecord = false;
    if (FUNC_HELPERS.has(h.id) && h.address !== undefined) {
      w.record(CapType.FUNC, values().u32(h.id, `${path}.id`).u32(h.address, `${path}.address`).build());
      addressDone = nfpRecord = true;
    } else if (h.id === HelperId.GET_PRANDOM_U32) {
      w.record(CapType.RANDOM);
      nfpRecord = true;
    } else if (h.id === HelperId.XDP_ADJUST_TAIL) {
      w.record(CapType.ADJUST_TAIL);
      nfpRecord = true;
    } else if (h.id === HelperId.XDP_ADJUST_HEAD && p.adjustHead !== undefined) {
      const a = p.adjustHead;
      w.record(CapType.ADJUST_HEAD, values()
        .u32(a.noMeta ? ADJUST_HEAD_NO_META : 0, '$.adjustHead.noMeta')
        .i32(a.offMin, '$.adjustHead.offMin')
        .i32(a.offMax, '$.adjustHead.offMax')
        .u32(a.guaranteedSub, '$.adjustHead.guaranteedSub')
        .u32(a.guaranteedAdd, '$.adjustHead.guaranteedAdd')
        .build());
      nfpRecord = true;
    }
    const needAddress = h.address !== undefined && !addressDone;
    if (!nfpRecord || h.flags !== undefined || needAddress) {
      const present = (h.flags !== undefined ? HELPER_HAS_FLAGS : 0) | (needAddress ? HELPER_HAS_ADDRESS : 0);
      w.record(CapType.HELPER, values()
        .u32(h.id, `${path}.id`)
        .u32(present, path)
        .u32(h.flags ?? 0, `${path}.flags`)
        .u32(needAddress ? (h.address ?? 0) : 0, `${path}.address`)
        .build());
    }
  });
}

// ------------------------------------------------------------------ decoding

/** One record as the decoder sees it. */
interface Rec {
  readonly type: number;
  /** Offset of the record header in the area. */
  readonly offset: number;
  /** Offset of the value. */
  readonly at: number;
  readonly length: number;
  readonly info: RecordInfo;
}

interface HelperNote {
  readonly offset: number;
  readonly flags?: number;
  readonly address?: number;
}

/** Everything the records said, filled in as they are read (one per decode call). */
class DecodeState {
  readonly warnings: string[] = [];
  readonly seenSingletons = new Map<number, number>();
  readonly strings = new Map<number, string>();
  isa?: Omit<IsaCaps, 'atomics'>;
  atomics?: IsaCaps['atomics'];
  limits?: { maxInsns: number; stackBytes: number; frameBytes: number; packetSplitBytes: number };
  timing?: { rec: Rec; words: number[] };
  actions?: XdpActionName[];
  readonly memories: MemoryLevel[] = [];
  mapTypes?: { rec: Rec; types: number[] };
  maps?: { mask: number; maxMaps: number; maxEntries: number; maxKeySize: number; maxValueSize: number; maxElemSize: number };
  abi = ABI_DEFAULT;
  /** undefined: no record; null: last record disabled it (the driver zeroes it). */
  adjustHead?: AdjustHeadCaps | null;
  random = false;
  adjustTail = false;
  queueSelect = false;
  cmsgMultiEnt = false;
  /** FUNC addresses by helper id, last record wins (the driver overwrites). */
  readonly funcAddress = new Map<number, number>();
  readonly helperNotes = new Map<number, HelperNote>();
  /** Helper ids in order of first mention. */
  readonly order: number[] = [];

  constructor(readonly view: DataView, readonly source: string) {}

  mention(id: number): void {
    if (!this.order.includes(id)) this.order.push(id);
  }

  fail(message: string, offset?: number): never {
    throw new CapsError(message, offset === undefined ? { file: this.source } : { file: this.source, offset });
  }

  word(r: Rec, i: number): number {
    return this.view.getUint32(r.at + 4 * i, true);
  }

  words(r: Rec, n: number): number[] {
    return Array.from({ length: n }, (_, i) => this.word(r, i));
  }
}

/** Our records must be exactly as long as their content says. */
function expectLength(s: DecodeState, r: Rec, expected: number): void {
  if (r.length < expected) s.fail(`truncated ${r.info.name} record: length ${r.length}`, r.offset);
  if (r.length !== expected) s.fail(`${r.info.name} record: length ${r.length}, expected ${expected}`, r.offset);
}

/** A string at value offset `rel` that must end the record exactly (le32 length, UTF-8, zero padding to 4). */
function readString(s: DecodeState, r: Rec, rel: number): string {
  const len = s.word(r, rel / 4);
  const room = r.length - rel - 4;
  if (len > room) s.fail(`${r.info.name} record: string length ${len} runs past the record (${room} bytes left)`, r.offset);
  expectLength(s, r, rel + 4 + pad4(len));
  if (len === 0) s.fail(`${r.info.name} record: empty string`, r.offset);
  const start = r.at + rel + 4;
  const bytes = new Uint8Array(s.view.buffer, s.view.byteOffset + start, len);
  for (let i = start + len; i < r.at + r.length; i++) {
    if (s.view.getUint8(i) !== 0) s.fail(`${r.info.name} record: non-zero string padding`, r.offset);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return s.fail(`${r.info.name} record: string is not valid UTF-8`, r.offset);
  }
}

/** A list of `count` le32 enum values at word `first`, each below `limit`, none twice. */
function readEnumList(s: DecodeState, r: Rec, first: number, count: number, limit: number, what: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = s.word(r, first + i);
    if (v >= limit) s.fail(`${r.info.name} record: unknown ${what} ${v}`, r.offset);
    if (out.includes(v)) s.fail(`${r.info.name} record: ${what} ${v} listed twice`, r.offset);
    out.push(v);
  }
  return out;
}

/** `count` words after `fixed` words: checks the record length first so a huge count is refused, not allocated. */
function countedLength(s: DecodeState, r: Rec, fixedWords: number, count: number): void {
  if (r.length < fixedWords * 4) s.fail(`truncated ${r.info.name} record: length ${r.length}`, r.offset);
  if (count > (r.length - fixedWords * 4) / 4) {
    s.fail(`${r.info.name} record: count ${count} runs past the record (length ${r.length})`, r.offset);
  }
  expectLength(s, r, (fixedWords + count) * 4);
}

type Handler = (s: DecodeState, r: Rec) => void;

/** What each record type does to the state. NFP handlers follow main.c nfp_bpf_parse_cap_*. */
const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [CapType.FUNC, (s, r) => {
    const id = s.word(r, 0);
    const addr = s.word(r, 1);
    if (!FUNC_HELPERS.has(id)) {
      s.warnings.push(`FUNC record at offset ${hex(r.offset)} for helper ${id}` +
        `${helperName(id) ? ` (${helperName(id)})` : ''} ignored: the driver reads FUNC only for helpers ` +
        `${HelperId.MAP_LOOKUP_ELEM}, ${HelperId.MAP_UPDATE_ELEM}, ${HelperId.MAP_DELETE_ELEM} and ${HelperId.PERF_EVENT_OUTPUT}`);
      return;
    }
    s.funcAddress.set(id, addr);
    s.mention(id);
  }],
  [CapType.ADJUST_HEAD, (s, r) => {
    const [flags = 0, min = 0, max = 0, sub = 0, add = 0] = s.words(r, 5);
    const offMin = min | 0;
    const offMax = max | 0;
    s.mention(HelperId.XDP_ADJUST_HEAD);
    if (offMin > offMax) s.fail(`invalid ADJUST_HEAD record: off_min ${offMin} > off_max ${offMax}`, r.offset);
    if (offMin < 0 || offMin > UR_REG_IMM_MAX || offMax < 0 || offMax > UR_REG_IMM_MAX) {
      s.warnings.push(`ADJUST_HEAD record at offset ${hex(r.offset)}: off_min ${offMin} / off_max ${offMax} do not fit ` +
        `the firmware's immediates (0..${UR_REG_IMM_MAX}): adjust_head disabled, as the driver does`);
      s.adjustHead = null;
      return;
    }
    if ((flags & ~ADJUST_HEAD_NO_META) !== 0) {
      s.warnings.push(`ADJUST_HEAD record at offset ${hex(r.offset)}: unknown flags ${hex(flags & ~ADJUST_HEAD_NO_META)} ignored`);
    }
    s.adjustHead = { offMin, offMax, guaranteedSub: sub, guaranteedAdd: add, noMeta: (flags & ADJUST_HEAD_NO_META) !== 0 };
  }],
  [CapType.MAPS, (s, r) => {
    const [mask = 0, maxMaps = 0, maxEntries = 0, maxKeySize = 0, maxValueSize = 0, maxElemSize = 0] = s.words(r, 6);
    s.maps = { mask, maxMaps, maxEntries, maxKeySize, maxValueSize, maxElemSize };
  }],
  [CapType.RANDOM, (s) => {
    s.random = true;
    s.mention(HelperId.GET_PRANDOM_U32);
  }],
  [CapType.QUEUE_SELECT, (s) => {
    s.queueSelect = true;
  }],
  [CapType.ADJUST_TAIL, (s) => {
    s.adjustTail = true;
    s.mention(HelperId.XDP_ADJUST_TAIL);
  }],
  [CapType.ABI_VERSION, (s, r) => {
    const v = s.word(r, 0);
    if (v < ABI_MIN || v > ABI_MAX) {
      s.warnings.push(`ABI_VERSION record at offset ${hex(r.offset)}: unsupported BPF ABI version ${v}: abiVersion 0, as the driver does`);
      s.abi = 0;
    } else {
      s.abi = v;
    }
  }],
  [CapType.CMSG_MULTI_ENT, (s) => {
    s.cmsgMultiEnt = true;
  }],
  [CapType.NAME, (s, r) => s.strings.set(r.type, readString(s, r, 0))],
  [CapType.VENDOR, (s, r) => s.strings.set(r.type, readString(s, r, 0))],
  [CapType.MODEL, (s, r) => s.strings.set(r.type, readString(s, r, 0))],
  [CapType.DESCRIPTION, (s, r) => s.strings.set(r.type, readString(s, r, 0))],
  [CapType.ISA, (s, r) => {
    expectLength(s, r, 16);
    const [wordBits, mul = 0, div = 0, features = 0] = s.words(r, 4);
    if (wordBits !== 32 && wordBits !== 64) s.fail(`ISA record: word size ${wordBits} is not 32 or 64`, r.offset);
    if (mul >= MUL_KINDS.length) s.fail(`ISA record: unknown multiply kind ${mul}`, r.offset);
    if (div >= DIV_KINDS.length) s.fail(`ISA record: unknown divide kind ${div}`, r.offset);
    if (features >>> FEATURES.length !== 0) s.fail(`ISA record: unknown feature bits ${hex(features & ~((1 << FEATURES.length) - 1))}`, r.offset);
    const f = (name: (typeof FEATURES)[number]): boolean => (features & (1 << FEATURES.indexOf(name))) !== 0;
    s.isa = {
      wordBits: wordBits === 32 ? 32 : 64, mul: MUL_KINDS[mul] ?? 'none', div: DIV_KINDS[div] ?? 'none', signedDiv: f('signedDiv'), alu32: f('alu32'),
      jmp32: f('jmp32'), signExtend: f('signExtend'), bswap: f('bswap'), calls: f('calls'), tailCalls: f('tailCalls'), loops: f('loops'),
      ctxAllFields: f('ctxAllFields'),
    };
  }],
  [CapType.ATOMICS, (s, r) => {
    if (r.length < 12) s.fail(`truncated ATOMICS record: length ${r.length}`, r.offset);
    const [fetch = 0, nOps = 0, nOn = 0] = s.words(r, 3);
    if (fetch > 1) s.fail(`ATOMICS record: fetch ${fetch} is not 0 or 1`, r.offset);
    countedLength(s, r, 3, nOps + nOn);
    const ops = readEnumList(s, r, 3, nOps, ATOMIC_OP_NAMES.length, 'atomic op');
    const on = readEnumList(s, r, 3 + nOps, nOn, ATOMIC_MEMORIES.length, 'atomic memory');
    s.atomics = {
      ops: ops.map((n) => ATOMIC_OP_NAMES[n] ?? 'add'),
      fetch: fetch === 1,
      on: on.map((n) => ATOMIC_MEMORIES[n] ?? 'stack'),
    };
  }],
  [CapType.HELPER, (s, r) => {
    expectLength(s, r, 16);
    const [id = 0, present = 0, flags = 0, address = 0] = s.words(r, 4);
    const name = helperName(id);
    if (name === undefined) s.fail(`HELPER record: unknown helper id ${id}`, r.offset);
    if (s.helperNotes.has(id)) s.fail(`HELPER record: helper ${id} (${name}) listed twice`, r.offset);
    if ((present & ~(HELPER_HAS_FLAGS | HELPER_HAS_ADDRESS)) !== 0) s.fail(`HELPER record: unknown present bits ${hex(present)}`, r.offset);
    if (!(present & HELPER_HAS_FLAGS) && flags !== 0) s.fail('HELPER record: flags set but not marked present', r.offset);
    if (!(present & HELPER_HAS_ADDRESS) && address !== 0) s.fail('HELPER record: address set but not marked present', r.offset);
    if (present & HELPER_HAS_ADDRESS && FUNC_HELPERS.has(id)) {
      s.fail(`HELPER record: the address of ${name} belongs in a FUNC record`, r.offset);
    }
    s.helperNotes.set(id, {
      offset: r.offset,
      ...(present & HELPER_HAS_FLAGS ? { flags } : {}),
      ...(present & HELPER_HAS_ADDRESS ? { address } : {}),
    });
    s.mention(id);
  }],
  [CapType.MAP_TYPES, (s, r) => {
    const count = s.word(r, 0);
    countedLength(s, r, 1, count);
    s.mapTypes = { rec: r, types: readEnumList(s, r, 1, count, MAP_TYPE_NAMES.length, 'map type') };
    if (s.mapTypes.types.includes(0)) s.fail('MAP_TYPES record: map type 0 (UNSPEC) is not a map type', r.offset);
  }],
  [CapType.LIMITS, (s, r) => {
    expectLength(s, r, 16);
    const [maxInsns = 0, stackBytes = 0, frameBytes = 0, packetSplitBytes = 0] = s.words(r, 4);
    s.limits = { maxInsns, stackBytes, frameBytes, packetSplitBytes };
  }],
  [CapType.MEMORY, (s, r) => {
    const [latencyCycles = 0, writeCycles = 0, atomicCycles = 0, serviceCycles = 0, bytes = 0] = s.words(r, 5);
    const name = readString(s, r, 20);
    if (s.memories.some((m) => m.name === name)) s.fail(`MEMORY record: memory ${JSON.stringify(name)} listed twice`, r.offset);
    s.memories.push({ name, latencyCycles, writeCycles, atomicCycles, serviceCycles, bytes });
  }],
  [CapType.TIMING, (s, r) => {
    expectLength(s, r, TIMING_WORDS * 4);
    s.timing = { rec: r, words: s.words(r, TIMING_WORDS) };
  }],
  [CapType.ACTIONS, (s, r) => {
    const count = s.word(r, 0);
    countedLength(s, r, 1, count);
    s.actions = readEnumList(s, r, 1, count, XDP_ACTION_NAMES.length, 'XDP action').map((n) => XDP_ACTION_NAMES[n] ?? 'aborted');
  }],
]);

/**
 * Reads a card's capability area back into a profile. `source` names the card
 * or file in messages. Refusals are CapsError with location.offset = the byte
 * offset of the offending record in the TLV area (BAR problems name their BAR
 * offset in the message); nothing else is thrown.
 */
export function decodeCardArea(area: CardArea, source: string): DecodedArea {
  const tlv = area.tlv;
  const s = new DecodeState(new DataView(tlv.buffer, tlv.byteOffset, tlv.byteLength), source);
  const bar = decodeBar(area.bar, source);
  const total = tlv.length;

  let pos = 0;
  while (pos + HEADER <= total) {
    const type = s.view.getUint32(pos, true);
    const length = s.view.getUint32(pos + 4, true);
    const offset = pos;
    if (length > total - pos - HEADER) {
      s.fail(`record type ${typeText(type)}: length ${length} runs past the end of the area (${total} bytes)`, offset);
    }
    pos += HEADER + length;
    const recInfo = CAP_RECORDS.get(type);
    if (recInfo === undefined) {
      s.warnings.push(`unknown capability type ${hex(type)} at offset ${hex(offset)} (length ${length}): skipped`);
      continue;
    }
    const rec: Rec = { type, offset, at: offset + HEADER, length, info: recInfo };
    if (length < recInfo.minLength) s.fail(`truncated ${recInfo.name} record: length ${length}`, offset);
    if (SINGLETONS.has(type)) {
      const first = s.seenSingletons.get(type);
      if (first !== undefined) s.fail(`second ${recInfo.name} record (the first is at offset ${hex(first)})`, offset);
      s.seenSingletons.set(type, offset);
    }
    HANDLERS.get(type)?.(s, rec);
  }
  if (pos !== total) s.fail(`capabilities left after parsing: parsed ${pos} of ${total} bytes`, pos);

  return { profile: finish(s, bar), warnings: s.warnings };
}

/** A required record's content (the caller has checked the record is there). */
function present<T>(s: DecodeState, v: T | undefined, name: CapTypeName): T {
  return v === undefined ? s.fail(`missing ${name} record`) : v;
}

/** The profile from the state, after the checks that need all records. */
function finish(s: DecodeState, bar: BarFields): CardProfile {
  for (const [type, r] of CAP_RECORDS) {
    if (r.required && !s.seenSingletons.has(type)) s.fail(`missing ${r.name} record`);
  }
  if (s.memories.length === 0) s.fail('missing MEMORY record');
  const str = (type: number): string => s.strings.get(type) ?? '';
  const isa = present(s, s.isa, 'ISA');
  const atomics = present(s, s.atomics, 'ATOMICS');
  const limits = present(s, s.limits, 'LIMITS');

  // Helpers, in order of first mention.
  const helpers: HelperCap[] = [];
  for (const id of s.order) {
    const note = s.helperNotes.get(id);
    const recordName = RECORD_HELPERS.get(id);
    let listed: boolean;
    if (recordName !== undefined) {
      listed = id === HelperId.GET_PRANDOM_U32 ? s.random
        : id === HelperId.XDP_ADJUST_TAIL ? s.adjustTail
          : s.adjustHead != null;
      const disabledHead = id === HelperId.XDP_ADJUST_HEAD && s.adjustHead === null;
      if (!listed && note !== undefined && !disabledHead) {
        s.fail(`HELPER record for ${helperName(id)} without a ${recordName} record`, note.offset);
      }
    } else {
      listed = s.funcAddress.has(id) || note !== undefined;
    }
    if (!listed) continue;
    const address = s.funcAddress.get(id) ?? note?.address;
    helpers.push({
      id,
      name: helperName(id) ?? `helper ${id}`,
      ...(note?.flags !== undefined ? { flags: note.flags } : {}),
      ...(address !== undefined ? { address } : {}),
    });
  }

  // Maps: the MAPS bitmask, in the order MAP_TYPES gives when it is there.
  const m = s.maps ?? { mask: 0, maxMaps: 0, maxEntries: 0, maxKeySize: 0, maxValueSize: 0, maxElemSize: 0 };
  if (m.mask & 1) s.warnings.push('MAPS record: types bit 0 (UNSPEC) is not a map type: ignored');
  const fromMask: number[] = [];
  for (let n = 1; n < MAPS_MASK_BITS; n++) if ((m.mask >>> n) & 1) fromMask.push(n);
  let types = fromMask;
  if (s.mapTypes !== undefined) {
    const listed = s.mapTypes.types;
    const low = listed.filter((n) => n < MAPS_MASK_BITS);
    if (low.length !== fromMask.length || low.some((n) => !fromMask.includes(n))) {
      s.fail(`MAP_TYPES record (${listed.map((n) => MAP_TYPE_NAMES[n]).join(', ') || 'none'}) does not match ` +
        `the MAPS types bitmask ${hex(m.mask)}`, s.mapTypes.rec.offset);
    }
    types = listed;
  }

  // Timing: memory references by index.
  const tm = present(s, s.timing, 'TIMING');
  const [clockKHz = 0, cores = 0, threadsPerCore = 0, issueWidth = 0, pkt = 0, map = 0, stk = 0,
    alu = 0, mul = 0, div = 0, branch = 0, helperCall = 0,
    rxCycles = 0, txCycles = 0, passCycles = 0, dropCycles = 0,
    lookupCycles = 0, updateCycles = 0, deleteCycles = 0, lockCycles = 0,
    ingressQueue = 0, linkMbps = 0, dmaCycles = 0, bytesPerCycle = 0, pcieMbps = 0, latencyNs = 0, mailboxNs = 0] = tm.words;
  const memName = (i: number, what: string): string => {
    const mem = s.memories[i];
    if (mem === undefined) s.fail(`TIMING record: ${what} memory ${i} is not one of the ${s.memories.length} MEMORY records`, tm.rec.offset);
    return mem.name;
  };
  const timing: TimingModel = {
    clockKHz, cores, threadsPerCore, issueWidth, memories: s.memories,
    packetMemory: memName(pkt, 'packet'), mapMemory: memName(map, 'map'), stackMemory: memName(stk, 'stack'),
    costs: { alu, mul, div, branch, helperCall },
    datapath: { rxCycles, txCycles, passCycles, dropCycles },
    firmware: { lookupCycles, updateCycles, deleteCycles, lockCycles },
    ingressQueue, linkMbps,
    dma: { cycles: dmaCycles, bytesPerCycle },
    pcie: { mbps: pcieMbps, latencyNs },
    mailboxNs,
  };

  // The control BAR must say what the LIMITS record says, in its own units.
  const barCheck = (name: BarFieldName, got: number, want: number, what: string): void => {
    if (got !== want) s.fail(`${barFieldText(name)} is ${got}, but the LIMITS record's ${what} gives ${want}`);
  };
  barCheck('MAX_LEN', bar.maxLen, maxLenFor(limits.maxInsns), `maxInsns ${limits.maxInsns}`);
  barCheck('STACK_SZ', bar.stackUnits, stackUnitsFor(limits.stackBytes), `stack of ${limits.stackBytes} bytes`);
  barCheck('INL_MTU', bar.inlMtuUnits, inlMtuUnitsFor(limits.packetSplitBytes), `packet split of ${limits.packetSplitBytes} bytes`);
  let abiVersion = s.abi;
  if (abiVersion !== 0 && bar.abi !== abiVersion) {
    s.warnings.push(`${barFieldText('ABI')} is ${bar.abi}, the capability area says ABI ${abiVersion}: ` +
      'the driver does not offload to this card: abiVersion 0');
    abiVersion = 0;
  }

  return {
    name: str(CapType.NAME),
    vendor: str(CapType.VENDOR),
    model: str(CapType.MODEL),
    description: str(CapType.DESCRIPTION),
    abiVersion,
    isa: { ...isa, atomics },
    helpers,
    maps: {
      types: types.map((n) => MAP_TYPE_NAMES[n] ?? `unknown(${n})`),
      maxMaps: m.maxMaps, maxEntries: m.maxEntries, maxKeySize: m.maxKeySize, maxValueSize: m.maxValueSize, maxElemSize: m.maxElemSize,
    },
    stack: { bytes: limits.stackBytes, frameBytes: limits.frameBytes },
    maxInsns: limits.maxInsns,
    packetSplitBytes: limits.packetSplitBytes,
    ...(s.adjustHead ? { adjustHead: s.adjustHead } : {}),
    queueSelect: s.queueSelect,
    cmsgMultiEnt: s.cmsgMultiEnt,
    actions: present(s, s.actions, 'ACTIONS'),
    timing,
  };
}

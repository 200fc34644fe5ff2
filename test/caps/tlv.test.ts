/**
 * The card capability area (caps/tlv.ts, caps/control-bar.ts): NFP records have
 * the kernel's numbers and layouts (drivers/net/ethernet/netronome/nfp/bpf/fw.h),
 * malformed areas get the driver's treatment (bpf/main.c
 * nfp_bpf_parse_capabilities), every profile survives encode → decode (the
 * shipped ones when present, and random ones with fast-check, fixed seed), and a
 * seeded fuzz of mutated areas only ever yields a CapsError or a stable profile.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapsError } from '../../caps/caps-error.js';
import { BAR_FIELDS, BAR_SIZE } from '../../caps/control-bar.js';
import {
  ATOMIC_OP_NAMES, XDP_ACTION_NAMES, type AdjustHeadCaps, type CardProfile, type HelperCap, type MemoryLevel,
} from '../../caps/profile.js';
import { CapType, decodeCardArea, encodeCardArea, type CardArea } from '../../caps/tlv.js';
import { HelperId, helperIds, helperName } from '../../xdp/helpers/helper-registry.js';
import { MAP_TYPE_NAMES } from '../../xdp/maps/map-types.js';
import { REPO } from '../support/paths.js';

// ---------------------------------------------------------------- helpers

/** Key-order-independent text of a value: objects with sorted keys, arrays in order. */
function canon(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x !== null && typeof x === 'object') {
      return Object.fromEntries(Object.keys(x).sort().filter((k) => (x as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    }
    return x;
  };
  return JSON.stringify(sort(v));
}

interface RawRecord { type: number; value: Uint8Array }

/** The records of a well-formed area. */
function split(tlv: Uint8Array): RawRecord[] {
  const v = new DataView(tlv.buffer, tlv.byteOffset, tlv.byteLength);
  const out: RawRecord[] = [];
  for (let at = 0; at < tlv.length;) {
    const len = v.getUint32(at + 4, true);
    out.push({ type: v.getUint32(at, true), value: tlv.slice(at + 8, at + 8 + len) });
    at += 8 + len;
  }
  return out;
}

function join32(...words: number[]): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  const v = new DataView(b.buffer);
  words.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
  return b;
}

/** A record: header with `length` (defaults to the value's) and the value bytes. */
function rec(type: number, value: Uint8Array = new Uint8Array(0), length = value.length): Uint8Array {
  const out = new Uint8Array(8 + value.length);
  out.set(join32(type, length), 0);
  out.set(value, 8);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const records = (rs: readonly RawRecord[]): Uint8Array => concat(...rs.map((r) => rec(r.type, r.value)));

/** The area with its records passed through `f`. */
function edit(area: CardArea, f: (rs: RawRecord[]) => RawRecord[]): CardArea {
  return { tlv: records(f(split(area.tlv))), bar: area.bar };
}

/** Offset of the first record of `type` in a well-formed area. */
function offsetOf(tlv: Uint8Array, type: number): number {
  let at = 0;
  for (const r of split(tlv)) {
    if (r.type === type) return at;
    at += 8 + r.value.length;
  }
  throw new Error(`no record ${type}`);
}

function refusal(f: () => unknown): CapsError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CapsError);
    return e as CapsError;
  }
  throw new Error('expected a CapsError');
}

const SRC = 'card0';

// ---------------------------------------------------------------- a fixed profile

/** Test data shaped like an NFP card; the figures are made up for the test, not the shipped profile's. */
const SAMPLE: CardProfile = {
  name: 'test-nfp',
  vendor: 'Netronome',
  model: 'Agilio (test)',
  description: 'A made-up NFP-like card for the capability-area tests — ünïcödé included.',
  abiVersion: 3,
  isa: {
    wordBits: 32, mul: 'u32', div: 'const-u32', signedDiv: false, alu32: true, jmp32: true, signExtend: false, bswap: true, ctxAllFields: true,
    atomics: { ops: ['add'], fetch: false, on: ['map_value'] }, calls: true, tailCalls: false, loops: false,
  },
  helpers: [
    { id: 1, name: 'bpf_map_lookup_elem', address: 0x1a0 },
    { id: 2, name: 'bpf_map_update_elem', address: 0x1c8 },
    { id: 3, name: 'bpf_map_delete_elem', address: 0x1f0 },
    { id: 7, name: 'bpf_get_prandom_u32' },
    { id: 25, name: 'bpf_perf_event_output', flags: 0xffffffff, address: 0x240 },
    { id: 44, name: 'bpf_xdp_adjust_head' },
    { id: 65, name: 'bpf_xdp_adjust_tail' },
  ],
  maps: { types: ['HASH', 'ARRAY'], maxMaps: 64, maxEntries: 3_000_000, maxKeySize: 64, maxValueSize: 64, maxElemSize: 128 },
  stack: { bytes: 512, frameBytes: 64 },
  maxInsns: 8000,
  packetSplitBytes: 4064,
  adjustHead: { offMin: 8, offMax: 192, guaranteedSub: 56, guaranteedAdd: 64, noMeta: true },
  queueSelect: true,
  cmsgMultiEnt: true,
  actions: ['aborted', 'drop', 'pass', 'tx'],
  timing: {
    clockKHz: 800_000, cores: 60, threadsPerCore: 4, issueWidth: 1,
    memories: [
      { name: 'lm', latencyCycles: 1, writeCycles: 1, atomicCycles: 2, serviceCycles: 1, bytes: 1024 },
      { name: 'ctm', latencyCycles: 50, writeCycles: 60, atomicCycles: 90, serviceCycles: 1, bytes: 262144 },
      { name: 'emem', latencyCycles: 500, writeCycles: 400, atomicCycles: 300, serviceCycles: 3, bytes: 2147483648 },
    ],
    packetMemory: 'ctm', mapMemory: 'emem', stackMemory: 'lm',
    costs: { alu: 1, mul: 4, div: 40, branch: 1, helperCall: 20 },
    datapath: { rxCycles: 100, txCycles: 50, passCycles: 70, dropCycles: 10 },
    firmware: { lookupCycles: 15, updateCycles: 25, deleteCycles: 15, lockCycles: 40 },
    ingressQueue: 32, linkMbps: 25000, dma: { cycles: 90, bytesPerCycle: 16 }, pcie: { mbps: 60000, latencyNs: 800 }, mailboxNs: 12000,
  },
};

const sampleArea = (): CardArea => encodeCardArea(SAMPLE);

// ---------------------------------------------------------------- arbitrary profiles

const small = fc.integer({ min: 0, max: 4096 });
const u32 = fc.oneof(small, fc.integer({ min: 0, max: 0xffffffff }));
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 });
const HELPER_IDS = helperIds();

const arbHelperIds = fc.uniqueArray(
  fc.oneof(fc.constantFrom<number>(
    HelperId.MAP_LOOKUP_ELEM, HelperId.MAP_UPDATE_ELEM, HelperId.MAP_DELETE_ELEM, HelperId.GET_PRANDOM_U32,
    HelperId.PERF_EVENT_OUTPUT, HelperId.XDP_ADJUST_HEAD, HelperId.XDP_ADJUST_TAIL,
  ), fc.constantFrom(...HELPER_IDS)),
  { maxLength: 12 },
);

const arbHelper = (id: number): fc.Arbitrary<HelperCap> =>
  fc.record({ flags: fc.option(u32, { nil: undefined }), address: fc.option(u32, { nil: undefined }) })
    .map(({ flags, address }) => ({
      id, name: helperName(id) ?? '',
      ...(flags !== undefined ? { flags } : {}),
      ...(address !== undefined ? { address } : {}),
    }));

/** Mostly offsets the driver keeps (0..255), sometimes any signed 32-bit pair; always min <= max. */
const arbAdjustHead: fc.Arbitrary<AdjustHeadCaps> = fc.record({
  off: fc.oneof({ weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })) },
    { weight: 1, arbitrary: fc.tuple(i32, i32) }),
  guaranteedSub: u32, guaranteedAdd: u32, noMeta: fc.boolean(),
}).map(({ off: [a, b], ...rest }) => ({ offMin: Math.min(a, b), offMax: Math.max(a, b), ...rest }));

const arbMemories: fc.Arbitrary<MemoryLevel[]> = fc.uniqueArray(
  fc.record({ name: text, latencyCycles: u32, writeCycles: u32, atomicCycles: u32, serviceCycles: u32, bytes: u32 }), { minLength: 1, maxLength: 4, selector: (m) => m.name },
);

const arbProfile: fc.Arbitrary<CardProfile> = fc.record({
  name: text, vendor: text, model: text, description: text,
  abiVersion: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(2, 3) }, { weight: 1, arbitrary: u32 }),
  isa: fc.record({
    wordBits: fc.constantFrom(32 as const, 64 as const),
    mul: fc.constantFrom('none' as const, 'u32' as const, 'full' as const),
    div: fc.constantFrom('none' as const, 'const-u32' as const, 'full' as const),
    signedDiv: fc.boolean(), alu32: fc.boolean(), jmp32: fc.boolean(), signExtend: fc.boolean(), bswap: fc.boolean(), ctxAllFields: fc.boolean(),
    atomics: fc.record({
      ops: fc.shuffledSubarray([...ATOMIC_OP_NAMES]),
      fetch: fc.boolean(),
      on: fc.shuffledSubarray(['map_value' as const, 'stack' as const]),
    }),
    calls: fc.boolean(), tailCalls: fc.boolean(), loops: fc.boolean(),
  }),
  helperIds: arbHelperIds,
  adjust: arbAdjustHead,
  maps: fc.record({
    types: fc.uniqueArray(fc.integer({ min: 1, max: MAP_TYPE_NAMES.length - 1 }), { maxLength: 8 })
      .map((ns) => ns.map((n) => MAP_TYPE_NAMES[n] ?? '')),
    maxMaps: u32, maxEntries: u32, maxKeySize: u32, maxValueSize: u32, maxElemSize: u32,
  }),
  stack: fc.record({ bytes: u32, frameBytes: u32 }),
  maxInsns: fc.oneof(small, fc.integer({ min: 0, max: 0xffffffff })),
  packetSplitBytes: u32,
  queueSelect: fc.boolean(),
  cmsgMultiEnt: fc.boolean(),
  actions: fc.shuffledSubarray([...XDP_ACTION_NAMES]),
  memories: arbMemories,
  clock: fc.record({ clockKHz: u32, cores: u32, threadsPerCore: u32, issueWidth: u32 }),
  costs: fc.record({ alu: u32, mul: u32, div: u32, branch: u32, helperCall: u32 }),
  sim: fc.record({
    datapath: fc.record({ rxCycles: u32, txCycles: u32, passCycles: u32, dropCycles: u32 }),
    firmware: fc.record({ lookupCycles: u32, updateCycles: u32, deleteCycles: u32, lockCycles: u32 }),
    ingressQueue: u32, linkMbps: u32, dma: fc.record({ cycles: u32, bytesPerCycle: u32 }), pcie: fc.record({ mbps: u32, latencyNs: u32 }), mailboxNs: u32,
  }),
  memPicks: fc.tuple(fc.nat(), fc.nat(), fc.nat()),
}).chain(({ helperIds, adjust, memories, clock, costs, sim, memPicks: [a, b, c], ...rest }) =>
  fc.tuple(...helperIds.map(arbHelper)).map((helpers): CardProfile => {
    const pick = (n: number): string => memories[n % memories.length]?.name ?? '';
    return {
      ...rest,
      helpers,
      ...(helperIds.includes(44) ? { adjustHead: adjust } : {}),
      timing: { ...clock, memories, packetMemory: pick(a), mapMemory: pick(b), stackMemory: pick(c), costs, ...sim },
    };
  }));

/** What the driver's rules make of a profile: ABI outside 2-3 is 0; ADJUST_HEAD outside the u8 immediates is dropped. */
function driverView(p: CardProfile): { profile: CardProfile; warnings: number } {
  let warnings = 0;
  let out: CardProfile = p;
  if (p.abiVersion < 2 || p.abiVersion > 3) {
    out = { ...out, abiVersion: 0 };
    warnings++;
  }
  const a = p.adjustHead;
  if (a !== undefined && (a.offMin < 0 || a.offMax > 255)) {
    const { adjustHead: _dropped, ...rest } = out;
    out = { ...rest, helpers: out.helpers.filter((h) => h.id !== 44) };
    warnings++;
  }
  return { profile: out, warnings };
}

// ---------------------------------------------------------------- round trips

describe('round trip: profile → area → profile', () => {
  it('a fixed NFP-like profile comes back deep-equal, without warnings', () => {
    const d = decodeCardArea(sampleArea(), SRC);
    expect(d.warnings).toEqual([]);
    expect(canon(d.profile)).toBe(canon(SAMPLE));
    expect(d.profile).toEqual(SAMPLE);
  });

  const dir = join(REPO, 'caps', 'profiles');
  const shipped = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
  it.skipIf(shipped.length === 0)(`the shipped profiles (caps/profiles/*.json: ${shipped.length} found)`, () => {
    for (const f of shipped) {
      const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CardProfile & { $schema?: string };
      const { $schema: _schema, ...profile } = p;
      const { profile: expected, warnings } = driverView(profile);
      const d = decodeCardArea(encodeCardArea(profile), f);
      expect(canon(d.profile), f).toBe(canon(expected));
      expect(d.warnings.length, f).toBe(warnings);
    }
  });

  it('random valid profiles come back as the driver would read them (fast-check, seed 42)', () => {
    fc.assert(fc.property(arbProfile, (p) => {
      const { profile: expected, warnings } = driverView(p);
      const d = decodeCardArea(encodeCardArea(p), SRC);
      expect(canon(d.profile)).toBe(canon(expected));
      expect(d.warnings.length).toBe(warnings);
    }), { seed: 42, numRuns: 300 });
  });

  it('random profiles within the driver\'s ranges come back exactly, every field (fast-check, seed 42)', () => {
    const clean = arbProfile.filter((p) => driverView(p).warnings === 0);
    fc.assert(fc.property(clean, (p) => {
      const d = decodeCardArea(encodeCardArea(p), SRC);
      expect(d.warnings).toEqual([]);
      expect(canon(d.profile)).toBe(canon(p));
    }), { seed: 42, numRuns: 300 });
  });

  it('encoding refuses a profile the area cannot hold, with its JSON path', () => {
    const bad = (p: unknown): CapsError => refusal(() => encodeCardArea(p as CardProfile));
    expect(bad({ ...SAMPLE, maxInsns: -1 }).location.path).toBe('$.maxInsns');
    expect(bad({ ...SAMPLE, maxInsns: 2 ** 32 }).location.path).toBe('$.maxInsns');
    expect(bad({ ...SAMPLE, name: '' }).location.path).toBe('$.name');
    expect(bad({ ...SAMPLE, vendor: 'a\ud800' }).message).toMatch(/well-formed/);
    expect(bad({ ...SAMPLE, adjustHead: undefined }).location.path).toBe('$.adjustHead');
    expect(bad({ ...SAMPLE, maps: { ...SAMPLE.maps, types: ['HASH', 'NOPE'] } }).location.path).toBe('$.maps.types[1]');
    expect(bad({ ...SAMPLE, helpers: [{ id: 1, name: 'bpf_map_update_elem' }], adjustHead: undefined }).location.path).toBe('$.helpers[0].name');
    expect(bad({ ...SAMPLE, timing: { ...SAMPLE.timing, mapMemory: 'sram' } }).location.path).toBe('$.timing.mapMemory');
    expect(bad({ ...SAMPLE, actions: ['drop', 'drop'] }).location.path).toBe('$.actions[1]');
  });
});

// ---------------------------------------------------------------- byte layouts

describe('NFP records have the kernel\'s numbers and layouts (bpf/fw.h)', () => {
  const rs = split(sampleArea().tlv);
  const byType = (t: number) => rs.filter((r) => r.type === t);
  const words = (b: Uint8Array) => Array.from({ length: b.length / 4 }, (_, i) => new DataView(b.buffer, b.byteOffset).getUint32(i * 4, true));

  it('type numbers of enum bpf_cap_tlv_type', () => {
    expect([CapType.FUNC, CapType.ADJUST_HEAD, CapType.MAPS, CapType.RANDOM, CapType.QUEUE_SELECT, CapType.ADJUST_TAIL,
      CapType.ABI_VERSION, CapType.CMSG_MULTI_ENT]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('MAPS: type 3, length 24, types bitmask, max_maps, max_elems, max_key_sz, max_val_sz, max_elem_sz', () => {
    const tlv = sampleArea().tlv;
    const at = offsetOf(tlv, 3);
    expect(Array.from(tlv.subarray(at, at + 8))).toEqual([3, 0, 0, 0, 24, 0, 0, 0]);
    const [m] = byType(3);
    expect(words(m!.value)).toEqual([(1 << 1) | (1 << 2), 64, 3_000_000, 64, 64, 128]);
  });

  it('FUNC: type 1, length 8, func_id then func_addr — for the helpers with an address', () => {
    expect(byType(1).map((r) => words(r.value))).toEqual([[1, 0x1a0], [2, 0x1c8], [3, 0x1f0], [25, 0x240]]);
  });

  it('ADJUST_HEAD: type 2, length 20, flags (bit 0 NO_META), off_min, off_max, guaranteed_sub, guaranteed_add', () => {
    const [a] = byType(2);
    expect(a!.value.length).toBe(20);
    expect(words(a!.value)).toEqual([1, 8, 192, 56, 64]);
    const neg = encodeCardArea({ ...SAMPLE, adjustHead: { ...SAMPLE.adjustHead!, offMin: -4, noMeta: false } });
    const [b] = split(neg.tlv).filter((r) => r.type === 2);
    expect(words(b!.value)).toEqual([0, 0xfffffffc, 192, 56, 64]);
  });

  it('RANDOM, QUEUE_SELECT, ADJUST_TAIL, CMSG_MULTI_ENT: no payload; ABI_VERSION: one le32', () => {
    for (const t of [4, 5, 6, 8]) expect(byType(t).map((r) => r.value.length), `type ${t}`).toEqual([0]);
    expect(byType(7).map((r) => words(r.value))).toEqual([[3]]);
    const plain = encodeCardArea({ ...SAMPLE, queueSelect: false, cmsgMultiEnt: false, helpers: SAMPLE.helpers.filter((h) => h.id !== 7) });
    const types = split(plain.tlv).map((r) => r.type);
    for (const t of [4, 5, 8]) expect(types).not.toContain(t);
  });

  it('our records are numbered from 0x10000; strings are le32 length + UTF-8 padded to 4', () => {
    for (const r of rs) expect(r.type <= 8 || r.type >= 0x10000).toBe(true);
    const [n] = byType(CapType.NAME);
    expect(Array.from(n!.value)).toEqual([8, 0, 0, 0, ...new TextEncoder().encode('test-nfp')]);
    const [v] = byType(CapType.VENDOR);
    expect(v!.value.length).toBe(4 + 12); // "Netronome" is 9 bytes, padded to 12
    expect(Array.from(v!.value.subarray(13))).toEqual([0, 0, 0]);
  });

  it('the control BAR mirrors NFP_NET_CFG_BPF_* (0x80..0x97) in the driver\'s units', () => {
    const bar = sampleArea().bar;
    const v = new DataView(bar.buffer);
    expect(BAR_SIZE).toBe(24);
    expect(BAR_FIELDS.STACK_SZ.offset + 0x80).toBe(0x88);
    expect(BAR_FIELDS.INL_MTU.offset + 0x80).toBe(0x89);
    expect(BAR_FIELDS.MAX_LEN.offset + 0x80).toBe(0x82);
    expect(v.getUint8(0)).toBe(3); // ABI
    expect(v.getUint16(2, true)).toBe(8000); // MAX_LEN, 64-bit instructions
    expect(v.getUint8(8)).toBe(512 / 64); // STACK_SZ, 64-byte chunks
    expect(v.getUint8(9)).toBe((4064 + 32) / 64); // INL_MTU: usable = value * 64 - 32
    const big = encodeCardArea({ ...SAMPLE, maxInsns: 100_000, stack: { bytes: 100_000, frameBytes: 64 }, packetSplitBytes: 100 });
    const bv = new DataView(big.bar.buffer);
    expect([bv.getUint16(2, true), bv.getUint8(8), bv.getUint8(9)]).toEqual([0xffff, 255, 2]); // saturated; 2*64-32 = 96 <= 100
  });
});

// ---------------------------------------------------------------- malformed areas

describe('malformed areas: the driver\'s treatment', () => {
  it('unknown record types are skipped with a warning naming the type and offset', () => {
    const base = sampleArea();
    const area = { tlv: concat(base.tlv, rec(99, join32(1, 2)), rec(0x10099, new Uint8Array(3))), bar: base.bar };
    const d = decodeCardArea(area, SRC);
    expect(d.warnings).toEqual([
      `unknown capability type 0x63 at offset 0x${base.tlv.length.toString(16)} (length 8): skipped`,
      `unknown capability type 0x10099 at offset 0x${(base.tlv.length + 16).toString(16)} (length 3): skipped`,
    ]);
    expect(canon(d.profile)).toBe(canon(SAMPLE));
  });

  it('a record running past the end of the area is refused at its offset', () => {
    const base = sampleArea();
    const e = refusal(() => decodeCardArea({ tlv: concat(base.tlv, rec(3, join32(0, 0), 100)), bar: base.bar }, SRC));
    expect(e.location).toEqual({ file: SRC, offset: base.tlv.length });
    expect(e.message).toBe(`${SRC}, offset 0x${base.tlv.length.toString(16)}: record type MAPS (0x3): length 100 runs past ` +
      `the end of the area (${base.tlv.length + 16} bytes)`);
    const huge = refusal(() => decodeCardArea({ tlv: concat(base.tlv, join32(1, 0xffffffff)), bar: base.bar }, SRC));
    expect(huge.location.offset).toBe(base.tlv.length);
  });

  it('bytes that cannot form a header are refused: "capabilities left after parsing"', () => {
    const base = sampleArea();
    const n = base.tlv.length;
    const e = refusal(() => decodeCardArea({ tlv: concat(base.tlv, new Uint8Array([7, 0, 0, 0, 0])), bar: base.bar }, SRC));
    expect(e.location).toEqual({ file: SRC, offset: n });
    expect(e.message).toMatch(new RegExp(`capabilities left after parsing: parsed ${n} of ${n + 5} bytes$`));
  });

  it.each([
    ['FUNC', 1, 7], ['ADJUST_HEAD', 2, 16], ['MAPS', 3, 20], ['ABI_VERSION', 7, 3],
  ] as const)('a %s record shorter than its struct is refused', (name, type, len) => {
    const base = sampleArea();
    const at = offsetOf(base.tlv, type);
    const area = edit(base, (rs) => rs.map((r) => (r.type === type ? { type, value: r.value.slice(0, len) } : r)));
    const e = refusal(() => decodeCardArea(area, SRC));
    expect(e.location).toEqual({ file: SRC, offset: at });
    expect(e.message).toBe(`${SRC}, offset 0x${at.toString(16)}: truncated ${name} record: length ${len}`);
  });

  it('a longer NFP record is read (the driver checks only for short ones)', () => {
    const area = edit(sampleArea(), (rs) => rs.map((r) => (r.type === 3 ? { type: 3, value: concat(r.value, join32(0xdead)) } : r)));
    expect(canon(decodeCardArea(area, SRC).profile)).toBe(canon(SAMPLE));
  });

  const withAdjust = (offMin: number, offMax: number): CardArea =>
    edit(sampleArea(), (rs) => rs.map((r) => (r.type === 2 ? { type: 2, value: join32(1, offMin, offMax, 56, 64) } : r)));

  it('ADJUST_HEAD with off_min > off_max is refused', () => {
    const area = withAdjust(10, 5);
    const at = offsetOf(area.tlv, 2);
    const e = refusal(() => decodeCardArea(area, SRC));
    expect(e.location).toEqual({ file: SRC, offset: at });
    expect(e.message).toMatch(/invalid ADJUST_HEAD record: off_min 10 > off_max 5$/);
  });

  it.each([[0, 256], [-1, 8], [-300, -200]])('ADJUST_HEAD min %i / max %i outside the u8 immediates: adjust_head disabled', (lo, hi) => {
    const area = withAdjust(lo, hi);
    const d = decodeCardArea(area, SRC);
    expect(d.profile.adjustHead).toBeUndefined();
    expect(d.profile.helpers.map((h) => h.id)).toEqual([1, 2, 3, 7, 25, 65]);
    expect(d.warnings).toEqual([`ADJUST_HEAD record at offset 0x${offsetOf(area.tlv, 2).toString(16)}: off_min ${lo} / off_max ${hi} ` +
      'do not fit the firmware\'s immediates (0..255): adjust_head disabled, as the driver does']);
  });

  it('ADJUST_HEAD at the edges of the immediates is kept', () => {
    expect(decodeCardArea(withAdjust(0, 255), SRC).profile.adjustHead).toEqual(
      { offMin: 0, offMax: 255, guaranteedSub: 56, guaranteedAdd: 64, noMeta: true });
  });

  it.each([0, 1, 4, 0xffffffff])('ABI version %i: a warning and abiVersion 0', (abi) => {
    const area = edit(sampleArea(), (rs) => rs.map((r) => (r.type === 7 ? { type: 7, value: join32(abi) } : r)));
    const d = decodeCardArea(area, SRC);
    expect(d.profile.abiVersion).toBe(0);
    expect(d.warnings).toEqual([`ABI_VERSION record at offset 0x0: unsupported BPF ABI version ${abi}: abiVersion 0, as the driver does`]);
  });

  it('no ABI_VERSION record: the driver\'s default, 2 (and the BAR must say 2)', () => {
    const base = encodeCardArea({ ...SAMPLE, abiVersion: 2 });
    const d = decodeCardArea(edit(base, (rs) => rs.filter((r) => r.type !== 7)), SRC);
    expect(d.profile.abiVersion).toBe(2);
    expect(d.warnings).toEqual([]);
  });

  it('BAR ABI different from the capability ABI: the driver would not offload (abiVersion 0, warning)', () => {
    const base = sampleArea();
    const bar = base.bar.slice();
    bar[0] = 2;
    const d = decodeCardArea({ tlv: base.tlv, bar }, SRC);
    expect(d.profile.abiVersion).toBe(0);
    expect(d.warnings).toEqual(['control BAR offset 0x00 (ABI, NFP 0x80) is 2, the capability area says ABI 3: ' +
      'the driver does not offload to this card: abiVersion 0']);
  });

  it('a BAR of the wrong size, or disagreeing with LIMITS, is refused with the BAR offset in the message', () => {
    const base = sampleArea();
    expect(refusal(() => decodeCardArea({ tlv: base.tlv, bar: base.bar.subarray(0, 10) }, SRC)).message)
      .toBe(`${SRC}: control BAR is 10 bytes, expected 24`);
    const bar = base.bar.slice();
    bar[8] = 4;
    const e = refusal(() => decodeCardArea({ tlv: base.tlv, bar }, SRC));
    expect(e.location).toEqual({ file: SRC });
    expect(e.message).toBe(`${SRC}: control BAR offset 0x08 (STACK_SZ, NFP 0x88) is 4, but the LIMITS record's stack of 512 bytes gives 8`);
  });

  it('FUNC for a helper the driver does not take FUNC for is ignored with a warning', () => {
    const base = sampleArea();
    const d = decodeCardArea({ tlv: concat(base.tlv, rec(1, join32(5, 0x99))), bar: base.bar }, SRC);
    expect(d.warnings).toEqual([`FUNC record at offset 0x${base.tlv.length.toString(16)} for helper 5 (bpf_ktime_get_ns) ignored: ` +
      'the driver reads FUNC only for helpers 1, 2, 3 and 25']);
    expect(canon(d.profile)).toBe(canon(SAMPLE));
  });

  it('repeated NFP records: the last one wins, as the driver overwrites', () => {
    // Without our MAP_TYPES list (which would contradict the second bitmask), as a plain NFP area has it.
    const base = edit(sampleArea(), (rs) => rs.filter((r) => r.type !== CapType.MAP_TYPES));
    const d = decodeCardArea({ tlv: concat(base.tlv, rec(3, join32(1 << 2, 1, 2, 3, 4, 5)), rec(1, join32(1, 0x777))), bar: base.bar }, SRC);
    expect(d.profile.maps).toEqual({ types: ['ARRAY'], maxMaps: 1, maxEntries: 2, maxKeySize: 3, maxValueSize: 4, maxElemSize: 5 });
    expect(d.profile.helpers[0]).toEqual({ id: 1, name: 'bpf_map_lookup_elem', address: 0x777 });
    expect(d.warnings).toEqual([]);
  });

  it('without MAP_TYPES the types come from the MAPS bitmask in ascending order; bit 0 is ignored with a warning', () => {
    const p = { ...SAMPLE, maps: { ...SAMPLE.maps, types: ['LRU_HASH', 'ARRAY', 'HASH'] } };
    const base = edit(encodeCardArea(p), (rs) => rs.filter((r) => r.type !== CapType.MAP_TYPES));
    expect(decodeCardArea(base, SRC).profile.maps.types).toEqual(['HASH', 'ARRAY', 'LRU_HASH']);
    const withBit0 = edit(base, (rs) => rs.map((r) => (r.type === 3 ? { type: 3, value: concat(join32(1 | (1 << 9)), r.value.subarray(4)) } : r)));
    const d = decodeCardArea(withBit0, SRC);
    expect(d.profile.maps.types).toEqual(['LRU_HASH']);
    expect(d.warnings).toEqual(['MAPS record: types bit 0 (UNSPEC) is not a map type: ignored']);
  });
});

describe('malformed areas: our records are refused with their offset', () => {
  const refusedAt = (area: CardArea, type: number, message: RegExp | string): void => {
    const e = refusal(() => decodeCardArea(area, SRC));
    expect(e.location).toEqual({ file: SRC, offset: offsetOf(area.tlv, type) });
    if (typeof message === 'string') expect(e.message.endsWith(`: ${message}`), e.message).toBe(true);
    else expect(e.message).toMatch(message);
  };
  const replace = (type: number, value: Uint8Array): CardArea =>
    edit(sampleArea(), (rs) => rs.map((r) => (r.type === type ? { type, value } : r)));

  it('strings: bad UTF-8, a length past the record, bad padding, empty', () => {
    refusedAt(replace(CapType.NAME, concat(join32(2), new Uint8Array([0xc3, 0x28, 0, 0]))), CapType.NAME, 'NAME record: string is not valid UTF-8');
    refusedAt(replace(CapType.NAME, concat(join32(9), new Uint8Array(4))), CapType.NAME, 'NAME record: string length 9 runs past the record (4 bytes left)');
    refusedAt(replace(CapType.NAME, concat(join32(1), new Uint8Array([0x41, 0, 1, 0]))), CapType.NAME, 'NAME record: non-zero string padding');
    refusedAt(replace(CapType.NAME, join32(0)), CapType.NAME, 'NAME record: empty string');
    refusedAt(replace(CapType.NAME, concat(join32(1), new Uint8Array([0x41, 0, 0, 0]), new Uint8Array(4))), CapType.NAME,
      'NAME record: length 12, expected 8');
  });

  it('unknown enumeration values', () => {
    refusedAt(replace(CapType.ISA, join32(32, 3, 0, 0)), CapType.ISA, 'ISA record: unknown multiply kind 3');
    refusedAt(replace(CapType.ISA, join32(16, 0, 0, 0)), CapType.ISA, 'ISA record: word size 16 is not 32 or 64');
    refusedAt(replace(CapType.ISA, join32(64, 0, 0, 0x200)), CapType.ISA, 'ISA record: unknown feature bits 0x200');
    refusedAt(replace(CapType.ACTIONS, join32(2, 1, 5)), CapType.ACTIONS, 'ACTIONS record: unknown XDP action 5');
    refusedAt(replace(CapType.ACTIONS, join32(2, 1, 1)), CapType.ACTIONS, 'ACTIONS record: XDP action 1 listed twice');
    refusedAt(replace(CapType.ATOMICS, join32(0, 1, 0, 6)), CapType.ATOMICS, 'ATOMICS record: unknown atomic op 6');
    refusedAt(replace(CapType.MAP_TYPES, join32(1, 99)), CapType.MAP_TYPES, 'MAP_TYPES record: unknown map type 99');
  });

  it('counts that run past the record are refused before anything is allocated', () => {
    refusedAt(replace(CapType.ACTIONS, join32(0xffffffff, 1)), CapType.ACTIONS, 'ACTIONS record: count 4294967295 runs past the record (length 8)');
    refusedAt(replace(CapType.ATOMICS, join32(0, 0x80000000, 0x80000000)), CapType.ATOMICS, /count 4294967296 runs past/);
  });

  it('helpers: unknown id, a RANDOM-only helper without RANDOM, a FUNC helper\'s address outside FUNC', () => {
    const base = sampleArea();
    const at = base.tlv.length;
    const e1 = refusal(() => decodeCardArea({ tlv: concat(base.tlv, rec(CapType.HELPER, join32(100000, 0, 0, 0))), bar: base.bar }, SRC));
    expect(e1.location.offset).toBe(at);
    expect(e1.message).toMatch(/HELPER record: unknown helper id 100000$/);
    const noRandom = encodeCardArea({ ...SAMPLE, helpers: SAMPLE.helpers.filter((h) => h.id !== 7) });
    const e2 = refusal(() => decodeCardArea({ tlv: concat(noRandom.tlv, rec(CapType.HELPER, join32(7, 1, 5, 0))), bar: noRandom.bar }, SRC));
    expect(e2.location.offset).toBe(noRandom.tlv.length);
    expect(e2.message).toMatch(/HELPER record for bpf_get_prandom_u32 without a RANDOM record$/);
    const e3 = refusal(() => decodeCardArea({ tlv: concat(base.tlv, rec(CapType.HELPER, join32(2, 2, 0, 9))), bar: base.bar }, SRC));
    expect(e3.message).toMatch(/the address of bpf_map_update_elem belongs in a FUNC record$/);
  });

  it('MAP_TYPES must list what the MAPS bitmask says', () => {
    refusedAt(replace(CapType.MAP_TYPES, join32(1, 2)), CapType.MAP_TYPES, 'MAP_TYPES record (ARRAY) does not match the MAPS types bitmask 0x6');
  });

  it('TIMING must name existing memories', () => {
    const t = join32(1, 1, 1, 1, 0, 1, 7, ...new Array<number>(20).fill(1));
    refusedAt(replace(CapType.TIMING, t), CapType.TIMING, 'TIMING record: stack memory 7 is not one of the 3 MEMORY records');
  });

  it('duplicates and missing records', () => {
    const base = sampleArea();
    const again = rec(CapType.NAME, concat(join32(1), new Uint8Array([0x41, 0, 0, 0])));
    const e = refusal(() => decodeCardArea({ tlv: concat(base.tlv, again), bar: base.bar }, SRC));
    expect(e.location.offset).toBe(base.tlv.length);
    expect(e.message).toMatch(/second NAME record \(the first is at offset 0x\w+\)$/);
    expect(refusal(() => decodeCardArea(edit(base, (rs) => rs.filter((r) => r.type !== CapType.LIMITS)), SRC)).message)
      .toBe(`${SRC}: missing LIMITS record`);
    expect(refusal(() => decodeCardArea({ tlv: new Uint8Array(0), bar: base.bar }, SRC)).message).toBe(`${SRC}: missing NAME record`);
  });
});

// ---------------------------------------------------------------- fuzz

describe('fuzz: mutated and truncated areas', () => {
  type Mutation =
    | { kind: 'byte'; at: number; value: number }
    | { kind: 'word'; at: number; value: number }
    | { kind: 'truncate'; at: number }
    | { kind: 'append'; bytes: number[] }
    | { kind: 'cut'; at: number; len: number }
    | { kind: 'dup'; at: number; len: number }
    | { kind: 'bar'; at: number; value: number }
    | { kind: 'records'; op: 'drop' | 'dup' | 'swap'; i: number; j: number };

  const interesting = fc.constantFrom(0, 1, 2, 3, 4, 7, 8, 12, 16, 20, 24, 44, 65, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff,
    0x10000, 0x10003, 0x10020, 0x10050, 0x10051);
  const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('word' as const), at: fc.nat(), value: fc.oneof(interesting, fc.integer({ min: 0, max: 0xffffffff })) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('append' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('bar' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('records' as const), op: fc.constantFrom('drop' as const, 'dup' as const, 'swap' as const), i: fc.nat(), j: fc.nat() }),
  );

  /** Whole-record edits, when the area still splits into records. */
  function recordEdit(tlv: Uint8Array, m: Extract<Mutation, { kind: 'records' }>): Uint8Array {
    let rs: RawRecord[];
    try {
      rs = split(tlv);
      if (records(rs).length !== tlv.length) return tlv;
    } catch {
      return tlv;
    }
    if (rs.length === 0) return tlv;
    const i = m.i % rs.length;
    const j = m.j % rs.length;
    const r = rs[i]!;
    if (m.op === 'drop') rs.splice(i, 1);
    else if (m.op === 'dup') rs.splice(j, 0, r);
    else [rs[i], rs[j]] = [rs[j]!, r];
    return records(rs);
  }

  function mutate(area: CardArea, ms: readonly Mutation[]): CardArea {
    let tlv: Uint8Array = area.tlv.slice();
    const bar = area.bar.slice();
    for (const m of ms) {
      const n = tlv.length;
      switch (m.kind) {
        case 'byte': if (n > 0) tlv[m.at % n] = m.value; break;
        case 'word': if (n >= 4) new DataView(tlv.buffer).setUint32((m.at % (n >> 2)) * 4, m.value, true); break;
        case 'truncate': tlv = tlv.slice(0, m.at % (n + 1)); break;
        case 'append': tlv = concat(tlv, Uint8Array.from(m.bytes)); break;
        case 'cut': { const at = m.at % (n + 1); tlv = concat(tlv.subarray(0, at), tlv.subarray(at + m.len)); break; }
        case 'dup': { const at = m.at % (n + 1); tlv = concat(tlv.subarray(0, at + m.len), tlv.subarray(at)); break; }
        case 'bar': bar[m.at % bar.length] = m.value; break;
        case 'records': tlv = recordEdit(tlv, m); break;
      }
    }
    return { tlv, bar };
  }

  it('2,000 mutations: only CapsError, or a profile that encodes and decodes to itself (seeded)', () => {
    let refused = 0;
    let accepted = 0;
    const started = Date.now();
    fc.assert(fc.property(fc.oneof(fc.constant(SAMPLE), arbProfile), fc.array(arbMutation, { minLength: 1, maxLength: 4 }), (p, ms) => {
      const area = mutate(encodeCardArea(p), ms);
      let d;
      try {
        d = decodeCardArea(area, SRC);
      } catch (e) {
        if (!(e instanceof CapsError)) throw e;
        expect(e.location.file).toBe(SRC);
        refused++;
        return;
      }
      accepted++;
      const again = decodeCardArea(encodeCardArea(d.profile), SRC);
      expect(canon(again.profile)).toBe(canon(d.profile));
    }), { seed: 42, numRuns: 2000 });
    expect(refused + accepted).toBe(2000);
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);
});

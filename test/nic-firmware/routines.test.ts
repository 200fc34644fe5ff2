/**
 * The firmware helper routines called by hand (docs/nic-image.md "Helper calls"): registers,
 * LM and LM pointers set on a fresh core state, the routine run, r0 and the maps checked.
 */
import { describe, expect, it } from 'vitest';
import type { FirmwareRoutine } from '../../nic-sim/core/run.js';
import { createCoreState, type CoreState } from '../../nic-sim/core/state.js';
import { CardMaps, type CardMapDef } from '../../nic-sim/firmware/card-maps.js';
import { FirmwareError, firmwareRoutines, type FirmwareOptions } from '../../nic-sim/firmware/routines.js';
import { Errno, UpdateFlag } from '../../xdp/maps/bpf-map.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';

const FW = { lookup: 0x3000, update: 0x3001, delete: 0x3002, perf: 0x3003 } as const;
const HELPERS = [
  { id: 1, address: FW.lookup }, { id: 2, address: FW.update }, { id: 3, address: FW.delete }, { id: 25, address: FW.perf },
  { id: 7 }, { id: 5, address: 0x3100 },
];
const TABLE: CardMapDef[] = [
  { name: 'arr', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 },
  { name: 'flows', type: MAP_TYPE.HASH, keySize: 6, valueSize: 4, maxEntries: 2, flags: 0 },
  { name: 'events', type: MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 0, flags: 0 },
];
const ARR = 1, FLOWS = 2, EVENTS = 3; // table ids

const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);
const u32 = (v: number): Uint8Array => bytes(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);

function setup(opts: Partial<FirmwareOptions> = {}, cpus = 2) {
  const maps = new CardMaps(TABLE, { cpus });
  const routines = firmwareRoutines(maps, HELPERS, { cpu: 1, ...opts });
  const s = createCoreState({ mem: { emem: maps.emem, ctm: new Uint8Array(512) } });
  s.gprB[0] = 0x1234; // a return address: the routine may overwrite it (the executor has read it)
  return { maps, routines, s };
}

/** Calls the routine at `address` with table id `table`, the key (or data) at LM 0x40, the value at LM 0x80. */
function call(routines: Map<number, FirmwareRoutine>, s: CoreState, address: number, table: number, key: Uint8Array, value?: Uint8Array): void {
  s.gprA[0] = table;
  s.lmAddr[0] = 0x40;
  s.lm.set(key, 0x40);
  if (value !== undefined) {
    s.lmAddr[2] = 0x80;
    s.lm.set(value, 0x80);
  }
  routines.get(address)!(s);
}

/** r0 as (low, high), checked to be the same in both banks. */
function r0(s: CoreState): [number, number] {
  expect([s.gprB[0], s.gprB[1]]).toEqual([s.gprA[0], s.gprA[1]]);
  return [s.gprA[0] as number, s.gprA[1] as number];
}
const errno = (e: number): [number, number] => [(-e) >>> 0, 0xffffffff];

function fwError(f: () => void): FirmwareError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FirmwareError);
    return e as FirmwareError;
  }
  throw new Error('no error');
}

describe('the routine table', () => {
  it('has a routine for each of helpers 1, 2, 3, 25 that has an address, and nothing else', () => {
    const { routines } = setup();
    expect([...routines.keys()].sort()).toEqual([FW.lookup, FW.update, FW.delete, FW.perf]);
  });

  it('refuses two helpers at one address', () => {
    const maps = new CardMaps([]);
    const e = fwError(() => firmwareRoutines(maps, [{ id: 1, address: 9 }, { id: 3, address: 9 }], { cpu: 0 }));
    expect(e.kind).toBe('helper-table');
    expect(e.message).toBe('bpf_map_delete_elem at firmware address 9: address 9 is also bpf_map_lookup_elem\'s');
  });
});

describe('bpf_map_lookup_elem', () => {
  it('r0 = the EMEM address of an array value (high word 0), 0 past max_entries', () => {
    const { maps, routines, s } = setup();
    call(routines, s, FW.lookup, ARR, u32(3));
    expect(r0(s)).toEqual([maps.valueAddress(0, 3), 0]);
    call(routines, s, FW.lookup, ARR, u32(4));
    expect(r0(s)).toEqual([0, 0]);
  });

  it('reads key_size bytes at ACT_LM_ADDR0 (byte b of LM is byte b)', () => {
    const { maps, routines, s } = setup();
    expect(maps.update(1, bytes(1, 2, 3, 4, 5, 6), u32(77), 0)).toBe(0);
    s.lm.fill(0xff);
    call(routines, s, FW.lookup, FLOWS, bytes(1, 2, 3, 4, 5, 6));
    const [lo, hi] = r0(s);
    expect(hi).toBe(0);
    expect(lo).toBe(maps.lookup(1, bytes(1, 2, 3, 4, 5, 6)));
    expect(maps.emem.slice(lo, lo + 4)).toEqual(u32(77));
    call(routines, s, FW.lookup, FLOWS, bytes(1, 2, 3, 4, 5, 7));
    expect(r0(s)).toEqual([0, 0]);
  });

  it('an unknown table id is a FirmwareError naming it', () => {
    const { routines, s } = setup();
    for (const id of [0, 4, 0xffffffff]) {
      const e = fwError(() => call(routines, s, FW.lookup, id, u32(0)));
      expect(e.kind).toBe('unknown-table');
      expect(e.tableId).toBe(id);
      expect(e.message).toBe(`bpf_map_lookup_elem at firmware address ${FW.lookup}, table id ${id}: gprA_0 holds table id ${id}, which the card's map table (ids 1..3) does not have`);
    }
  });

  it('a key past the end of LM is a FirmwareError', () => {
    const { routines, s } = setup();
    s.gprA[0] = FLOWS;
    s.lmAddr[0] = 0xffc;
    const e = fwError(() => routines.get(FW.lookup)!(s));
    expect(e.kind).toBe('lm-range');
    expect(e.reason).toBe('the key at LM 0xffc+6 (ACT_LM_ADDR0) runs past local memory (0x1000 bytes)');
  });

  it('an LM pointer still in its write delay is a FirmwareError', () => {
    const { routines, s } = setup();
    s.lmDelay[0] = 1;
    const e = fwError(() => call(routines, s, FW.lookup, ARR, u32(0)));
    expect(e.kind).toBe('hazard');
    expect(e.reason).toBe('ACT_LM_ADDR0 (the key): the LM pointer written fewer than 3 instructions before the call');
  });
});

describe('bpf_map_update_elem', () => {
  it('writes the value at ACT_LM_ADDR2 with the flags in r4 low (GPR 8); r0 = 0 or -errno sign-extended', () => {
    const { maps, routines, s } = setup();
    s.gprA[8] = UpdateFlag.NOEXIST;
    s.gprA[9] = 0xdead; // r4's high word: not part of the flags
    call(routines, s, FW.update, FLOWS, bytes(9, 9, 9, 9, 9, 1), u32(0xcafe));
    expect(r0(s)).toEqual([0, 0]);
    expect(maps.value(1, bytes(9, 9, 9, 9, 9, 1))).toEqual(u32(0xcafe));
    call(routines, s, FW.update, FLOWS, bytes(9, 9, 9, 9, 9, 1), u32(1));
    expect(r0(s)).toEqual(errno(Errno.EEXIST));
    s.gprA[8] = UpdateFlag.EXIST;
    call(routines, s, FW.update, FLOWS, bytes(9, 9, 9, 9, 9, 2), u32(1));
    expect(r0(s)).toEqual(errno(Errno.ENOENT));
    s.gprA[8] = UpdateFlag.ANY;
    call(routines, s, FW.update, FLOWS, bytes(9, 9, 9, 9, 9, 2), u32(2));
    expect(r0(s)).toEqual([0, 0]);
    call(routines, s, FW.update, FLOWS, bytes(9, 9, 9, 9, 9, 3), u32(3));
    expect(r0(s)).toEqual(errno(Errno.E2BIG));
    s.gprA[8] = 4;
    call(routines, s, FW.update, FLOWS, bytes(9, 9, 9, 9, 9, 2), u32(3));
    expect(r0(s)).toEqual(errno(Errno.EINVAL));
    expect(maps.keys(1)).toEqual([bytes(9, 9, 9, 9, 9, 1), bytes(9, 9, 9, 9, 9, 2)]);
  });

  it('array: value_size bytes from LM into the value slot; -E2BIG past max_entries', () => {
    const { maps, routines, s } = setup();
    s.gprA[8] = 0;
    call(routines, s, FW.update, ARR, u32(2), bytes(1, 2, 3, 4, 5, 6, 7, 8, 9));
    expect(r0(s)).toEqual([0, 0]);
    expect(maps.emem.slice(maps.valueAddress(0, 2), maps.valueAddress(0, 3))).toEqual(bytes(1, 2, 3, 4, 5, 6, 7, 8));
    call(routines, s, FW.update, ARR, u32(4), bytes(1, 2, 3, 4, 5, 6, 7, 8));
    expect(r0(s)).toEqual(errno(Errno.E2BIG));
  });

  it('checks ACT_LM_ADDR2 for its write delay and LM range too', () => {
    const { routines, s } = setup();
    s.lmDelay[2] = 2;
    let e = fwError(() => call(routines, s, FW.update, ARR, u32(0), u32(0)));
    expect(e.reason).toBe('ACT_LM_ADDR2 (the value): the LM pointer written fewer than 3 instructions before the call');
    s.lmDelay[2] = 0;
    s.lmAddr[2] = 0xffc;
    s.gprA[0] = ARR;
    e = fwError(() => routines.get(FW.update)!(s));
    expect(e.kind).toBe('lm-range');
    expect(e.message).toBe(`bpf_map_update_elem at firmware address ${FW.update}, table id 1: the value at LM 0xffc+8 (ACT_LM_ADDR2) runs past local memory (0x1000 bytes)`);
  });
});

describe('bpf_map_delete_elem', () => {
  it('r0 = 0, -ENOENT for an absent key, -EINVAL on an array', () => {
    const { maps, routines, s } = setup();
    maps.write(1, bytes(1, 1, 1, 1, 1, 1), u32(5));
    call(routines, s, FW.delete, FLOWS, bytes(1, 1, 1, 1, 1, 1));
    expect(r0(s)).toEqual([0, 0]);
    expect(maps.keys(1)).toEqual([]);
    call(routines, s, FW.delete, FLOWS, bytes(1, 1, 1, 1, 1, 1));
    expect(r0(s)).toEqual(errno(Errno.ENOENT));
    call(routines, s, FW.delete, ARR, u32(0));
    expect(r0(s)).toEqual(errno(Errno.EINVAL));
  });
});

describe('bpf_perf_event_output', () => {
  /** Data at LM 0x40, size in r5 low (GPR 10), flags in r3 (GPR 6 low, GPR 7 high). */
  function perf(routines: Map<number, FirmwareRoutine>, s: CoreState, table: number, data: Uint8Array, flagsLo: number, flagsHi = 0): void {
    s.gprA[10] = data.length;
    s.gprA[11] = 0;
    s.gprA[6] = flagsLo;
    s.gprA[7] = flagsHi;
    call(routines, s, FW.perf, table, data);
  }

  it('BPF_F_CURRENT_CPU: a sample in the calling CPU\'s slot, with ctxLen packet bytes appended', () => {
    const pkt = bytes(0xa0, 0xa1, 0xa2, 0xa3);
    const { maps, routines, s } = setup({ packet: () => pkt });
    perf(routines, s, EVENTS, bytes(1, 2, 3), 0xffffffff);
    expect(r0(s)).toEqual([0, 0]);
    perf(routines, s, EVENTS, bytes(4), 0xffffffff, 3 | 0xfff00000); // bits above BPF_F_CTXLEN_MASK: ignored, as the host does
    expect(r0(s)).toEqual([0, 0]);
    perf(routines, s, EVENTS, bytes(), 1, 4);
    expect(r0(s)).toEqual([0, 0]);
    expect(maps.events(2)).toEqual([
      { index: 1, cpu: 1, data: bytes(1, 2, 3) },
      { index: 1, cpu: 1, data: bytes(4, 0xa0, 0xa1, 0xa2) },
      { index: 1, cpu: 1, data: pkt },
    ]);
  });

  it('the host\'s codes: another CPU\'s slot -EOPNOTSUPP, past max_entries -E2BIG, more packet than there is -EFAULT', () => {
    const { maps, routines, s } = setup({ packet: () => bytes(1, 2) });
    perf(routines, s, EVENTS, bytes(1), 0);
    expect(r0(s)).toEqual(errno(Errno.EOPNOTSUPP));
    perf(routines, s, EVENTS, bytes(1), 2);
    expect(r0(s)).toEqual(errno(Errno.E2BIG));
    perf(routines, s, EVENTS, bytes(1), 0xffffffff, 3);
    expect(r0(s)).toEqual(errno(Errno.EFAULT));
    expect(maps.events(2)).toEqual([]);
  });

  it('by default appends CTM bytes [gprA_22, gprA_22 + gprA_23)', () => {
    const { maps, routines, s } = setup();
    s.mem.ctm.set(bytes(0xde, 0xad, 0xbe, 0xef), 128);
    s.gprA[22] = 128;
    s.gprA[23] = 4;
    perf(routines, s, EVENTS, bytes(7), 0xffffffff, 2);
    expect(r0(s)).toEqual([0, 0]);
    expect(maps.events(2)[0]!.data).toEqual(bytes(7, 0xde, 0xad));
    s.gprA[22] = 510;
    const e = fwError(() => perf(routines, s, EVENTS, bytes(7), 0xffffffff, 2));
    expect(e.kind).toBe('packet');
  });

  it('on a map that is no PERF_EVENT_ARRAY: a FirmwareError; data past LM: a FirmwareError', () => {
    const { routines, s } = setup();
    let e = fwError(() => perf(routines, s, FLOWS, bytes(1), 0xffffffff));
    expect(e.kind).toBe('wrong-map-type');
    expect(e.reason).toBe("map 'flows' is a HASH, not a PERF_EVENT_ARRAY");
    s.gprA[0] = EVENTS;
    s.gprA[10] = 0x1000 - 0x40 + 1;
    s.lmAddr[0] = 0x40;
    e = fwError(() => routines.get(FW.perf)!(s));
    expect(e.kind).toBe('lm-range');
  });
});

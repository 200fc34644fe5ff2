/**
 * Map calls inside the WebAssembly executor against the interpreter calling the
 * JavaScript routines under the same meter: bpf_map_lookup_elem run by the module itself
 * on an ARRAY map (compile-wasm.ts NativeLookup: keys inside and past its end), and
 * lookups, updates and deletes priced by the module with only the routine called out
 * (compile-wasm.ts PricedCall: an ARRAY and a HASH map, their reads and writes as swaps,
 * the lock time of updates and deletes), and calls on a table id the card lacks (the
 * JavaScript way); with the key's LM pointer written too few instructions before the call
 * (the hazard error) or not, update flags that succeed and fail, and return addresses
 * inside and past the code — the same registers, the same error, the same work, lock
 * time and hot spots.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveProfile } from '../../caps/load-profile.js';
import { CardMemory } from '../../nic-sim/card/card-memory.js';
import { CoreError, StepContext, createCoreState, run } from '../../nic-sim/core/index.js';
import { wasmTimed } from '../../nic-sim/core/wasm-timed.js';
import { CardMaps, type CardMapDef } from '../../nic-sim/firmware/card-maps.js';
import { FirmwareError, firmwareRoutines } from '../../nic-sim/firmware/routines.js';
import type { Insn } from '../../nic-sim/isa/instructions.js';
import { MAX_TARGET } from '../../nic-sim/isa/tables.js';
import { cycleTable } from '../../nic-sim/timing/cycle-table.js';
import { PacketMeter } from '../../nic-sim/timing/packet-meter.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';

const { profile } = resolveProfile('nfp-4000');
const LOOKUP = 0x3000;
const UPDATE = 0x3010;
const DELETE = 0x3020;
const HELPERS = [{ id: 1, address: LOOKUP }, { id: 2, address: UPDATE }, { id: 3, address: DELETE }];
const TABLE: CardMapDef[] = [
  { name: 'arr', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 },
  { name: 'flows', type: MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 2, flags: 0 },
  { name: 'tuples', type: MAP_TYPE.HASH, keySize: 13, valueSize: 8, maxEntries: 8, flags: 0 },
];
/** A key as the program's LM holds it: the u32 little-endian, then zeros to the key's size. */
const keyBytes = (n: number, size: number) => {
  const k = new Uint8Array(size);
  new DataView(k.buffer).setUint32(0, n, true);
  return k;
};
/** Keys present and deleted before the call, so that lookups hit, miss and probe past deleted marks. */
function populate(maps: CardMaps): void {
  const put = (i: number, n: number) => maps.update(i, keyBytes(n, TABLE[i]!.keySize), new Uint8Array(TABLE[i]!.valueSize).fill(n), 0);
  put(1, 1);
  put(1, 3);
  maps.delete(1, keyBytes(1, 4));
  put(1, 5);
  for (let n = 0; n < 7; n++) put(2, n);
  maps.delete(2, keyBytes(2, 13));
  maps.delete(2, keyBytes(4, 13));
  put(2, 9);
}
const gpr = (bank: 'a' | 'b' | 'ab', n: number) => ({ k: 'gpr' as const, bank, n });
const immed = (dst: ReturnType<typeof gpr>, value: number): Insn => ({ cls: 'immed', dst, value, width: 'all', invert: false, shift: 0 });

describe('map calls inside the WebAssembly executor', () => {
  it('leave what the JavaScript routines leave: r0, errors, work, lock time and hot spots', () => {
    fc.assert(fc.property(
      fc.constantFrom(LOOKUP, LOOKUP, UPDATE, DELETE), fc.constantFrom(1, 2, 3, 3, 7), fc.nat(3), fc.oneof(fc.nat(9), fc.constant(0xffffffff)), fc.constantFrom(0x40, 0x40, 0xffc),
      fc.constantFrom(0, 1, 2, 4), fc.boolean(),
      (helper, table, pad, key, keyAt, flags, badReturn) => {
        // A0 = table; r3 = the update's flags; LM pointer 2 = the value's address, 0 = the key's; pad nops; B0 = the return address;
        // the call (twice for an update, so that the second finds the key); then copy r0 and end.
        const body: Insn[] = [
          immed(gpr('a', 0), table),
          immed(gpr('a', 6), flags),
          { cls: 'local_csr', write: true, csr: 'ACT_LM_ADDR2', src: { k: 'imm', value: 0x80 } } as Insn,
          { cls: 'local_csr', write: true, csr: 'ACT_LM_ADDR0', src: { k: 'imm', value: keyAt } } as Insn,
          ...Array.from({ length: pad }, () => immed({ k: 'none' } as never, 0)),
        ];
        const ret = body.length + 2;
        const program: Insn[] = [
          ...body,
          immed(gpr('b', 0), badReturn ? MAX_TARGET + 1 : ret),
          { cls: 'br', cond: 'always', target: helper, defer: 0 } as Insn,
          { cls: 'alu', op: 'none', dst: gpr('ab', 3), a: gpr('a', 0), b: gpr('a', 0), swap: false } as Insn,
        ];
        const outcome = (executor: 'wasm' | 'interpreter') => {
          let cm: CardMemory | undefined;
          const maps = new CardMaps(TABLE, { allocate: (n, x) => (cm = new CardMemory(64, n, program.length, x)) });
          populate(maps);
          const s = createCoreState({ registers: cm!.registers, mem: { ctm: cm!.ctm, emem: maps.emem } });
          // The key in LM where the pointer will point (the last word holds it when keyAt is 0xffc).
          new DataView(s.lm.buffer, s.lm.byteOffset, s.lm.byteLength).setUint32(keyAt, key, true);
          const firmware = firmwareRoutines(maps, HELPERS, { cpu: 0 });
          const meter = new PacketMeter(cycleTable(profile.timing), profile.timing, program.length, new Map(HELPERS.map((h) => [h.address, h.id])), {
            count: maps.length, mapOfTable: (id) => {
              const i = maps.mapIndexOfTable(id);
              return i === undefined ? undefined : { index: i, type: maps.defs[i]!.type };
            },
          });
          meter.begin(0);
          const o = { startPc: 0, endPc: program.length, firmware, stepLimit: 100 };
          const ctx = new StepContext(s);
          let error: string | undefined;
          try {
            if (executor === 'wasm') {
              const arr = meter.firmwarePrice(LOOKUP, 1)!;
              // Lookups on the HASH maps run in WebAssembly, where their key indexes lie in the memory.
              const hashOf = (i: number) => {
                const place = maps.hashIndex(i)!;
                return {
                  keyPointer: 0, returnGpr: 0, maxTarget: MAX_TARGET, keySize: place.keySize, table: cm!.layout.index + place.table, mask: place.mask,
                  keys: cm!.layout.index + place.keys, base: maps.base(i), stride: maps.stride(i),
                };
              };
              const priced = HELPERS.flatMap((h) => [1, 2, 3].map((t) => ({
                address: h.address, table: t, price: meter.firmwarePrice(h.address, t)!, ...(h.address === LOOKUP && t > 1 ? { hash: hashOf(t - 1) } : {}),
              })));
              expect(priced.some((p) => p.price.reads > 0 && p.price.lockCycles > 0)).toBe(true);
              const t = wasmTimed(program, {
                ...o, prices: meter, layout: cm!.execLayout, memory: cm!.memory, state: s, context: ctx, memories: meter.work.commands.length,
                lookup: { address: LOOKUP, keyPointer: 0, returnGpr: 0, maxTarget: MAX_TARGET, arrays: [{ table: 1, base: maps.base(0), stride: maps.stride(0), maxEntries: 4, cycles: arr.cycles }] },
                priced,
              });
              if (!('run' in t)) throw new Error(t.unsupported);
              try {
                const resume = t.run(s, meter.work, ctx);
                expect(resume).toBe(-1);
              } finally {
                t.foldHotSpots(meter.work.pcCycles, meter.work.pcSleep);
              }
            } else {
              run(program, s, { ...o, meter });
            }
          } catch (e) {
            if (!(e instanceof CoreError || e instanceof FirmwareError)) throw e;
            error = e.message;
          }
          meter.end(0);
          return {
            error, a: [...s.gprA.subarray(0, 4)], b: [...s.gprB.subarray(0, 4)], segs: meter.work.segments(), compute: meter.compute, sleep: meter.sleep,
            commands: [...meter.commands], locks: [...meter.locks], pcCycles: [...meter.pcCycles], pcSleep: [...meter.pcSleep], emem: [...maps.emem],
          };
        };
        expect(outcome('wasm')).toEqual(outcome('interpreter'));
      }), { numRuns: 300, seed: 5 });
  });
});

/**
 * bpf_map_lookup_elem run inside the WebAssembly executor (compile-wasm.ts NativeLookup)
 * against the interpreter calling the JavaScript routine under the same meter: random
 * calls on an ARRAY map (keys inside and past its end), on a HASH map and on a table id
 * the card lacks (both the JavaScript way), with the key's LM pointer written too few
 * instructions before the call (the hazard error) or not, and return addresses inside
 * and past the code — the same registers, the same error, the same work and hot spots.
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
const HELPERS = [{ id: 1, address: LOOKUP }];
const TABLE: CardMapDef[] = [
  { name: 'arr', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 },
  { name: 'flows', type: MAP_TYPE.HASH, keySize: 4, valueSize: 4, maxEntries: 2, flags: 0 },
];
const gpr = (bank: 'a' | 'b' | 'ab', n: number) => ({ k: 'gpr' as const, bank, n });
const immed = (dst: ReturnType<typeof gpr>, value: number): Insn => ({ cls: 'immed', dst, value, width: 'all', invert: false, shift: 0 });

describe('map lookups inside the WebAssembly executor', () => {
  it('leave what the JavaScript routine leaves: r0, errors, work and hot spots', () => {
    fc.assert(fc.property(
      fc.constantFrom(1, 2, 7), fc.nat(3), fc.oneof(fc.nat(7), fc.constant(0xffffffff)), fc.constantFrom(0x40, 0xffc), fc.boolean(),
      (table, pad, key, keyAt, badReturn) => {
        // A0 = table; LM pointer 0 = the key's address; pad nops; B0 = the return address; call; then copy r0 and end.
        const body: Insn[] = [
          immed(gpr('a', 0), table),
          { cls: 'local_csr', write: true, csr: 'ACT_LM_ADDR0', src: { k: 'imm', value: keyAt } } as Insn,
          ...Array.from({ length: pad }, () => immed({ k: 'none' } as never, 0)),
        ];
        const ret = body.length + 2;
        const program: Insn[] = [
          ...body,
          immed(gpr('b', 0), badReturn ? MAX_TARGET + 1 : ret),
          { cls: 'br', cond: 'always', target: LOOKUP, defer: 0 } as Insn,
          { cls: 'alu', op: 'none', dst: gpr('ab', 3), a: gpr('a', 0), b: gpr('a', 0), swap: false } as Insn,
        ];
        const outcome = (executor: 'wasm' | 'interpreter') => {
          let cm: CardMemory | undefined;
          const maps = new CardMaps(TABLE, { allocate: (n) => (cm = new CardMemory(64, n, program.length)).emem });
          const s = createCoreState({ registers: cm!.registers, mem: { ctm: cm!.ctm, emem: maps.emem } });
          // The key in LM where the pointer will point (the last word holds it when keyAt is 0xffc).
          new DataView(s.lm.buffer, s.lm.byteOffset, s.lm.byteLength).setUint32(keyAt, key, true);
          const firmware = firmwareRoutines(maps, HELPERS, { cpu: 0 });
          const meter = new PacketMeter(cycleTable(profile.timing), profile.timing, program.length, new Map([[LOOKUP, 1]]), {
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
              const t = wasmTimed(program, {
                ...o, prices: meter, layout: cm!.execLayout, memory: cm!.memory, state: s, context: ctx, memories: meter.work.commands.length,
                lookup: { address: LOOKUP, keyPointer: 0, returnGpr: 0, maxTarget: MAX_TARGET, arrays: [{ table: 1, base: maps.base(0), stride: maps.stride(0), maxEntries: 4, cycles: arr.cycles }] },
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
          return { error, a: [...s.gprA.subarray(0, 4)], b: [...s.gprB.subarray(0, 4)], segs: meter.work.segments(), compute: meter.compute, commands: [...meter.commands], pcCycles: [...meter.pcCycles] };
        };
        expect(outcome('wasm')).toEqual(outcome('interpreter'));
      }), { numRuns: 300, seed: 5 });
  });
});

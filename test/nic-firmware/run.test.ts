/**
 * The helper-call convention end to end (docs/nic-image.md "Helper calls"): small hand-written
 * card programs set ACT_LM_ADDR0/2, put a key and a value in LM through LM operands, and call
 * the firmware with `br[FUNC], defer[2]` holding `immed[gprA_0, table id]` and
 * `immed[gprB_0, return address]`; the executor (nic-sim/core/run.ts) runs the routines, and
 * the program reads the returned EMEM address back with an `emem` command.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../nic-sim/core/run.js';
import { createCoreState, type CoreState } from '../../nic-sim/core/state.js';
import { CardMaps, type CardMapDef } from '../../nic-sim/firmware/card-maps.js';
import { FirmwareError, firmwareRoutines } from '../../nic-sim/firmware/routines.js';
import { assembleWithLabels } from '../../nic-sim/isa/assembler.js';
import { Errno } from '../../xdp/maps/bpf-map.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';

/** FUNC addresses of the helpers, as a card profile gives them. */
const FUNC = { lookup: 12288, update: 12289, delete: 12290, perf: 12291 } as const;
const HELPERS = [
  { id: 1, address: FUNC.lookup }, { id: 2, address: FUNC.update }, { id: 3, address: FUNC.delete }, { id: 25, address: FUNC.perf },
];
const TABLE: CardMapDef[] = [
  { name: 'arr', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, flags: 0 },
  { name: 'flows', type: MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 },
  { name: 'events', type: MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0 },
];

/** Assembles `source`, where `@label` in an immed stands for the label's address (the IMMED_ADDR relocation). */
function assembleRel(source: string) {
  const first = assembleWithLabels(source.replace(/@(\w+)/g, '0'));
  return assembleWithLabels(source.replace(/@(\w+)/g, (_, l: string) => {
    const at = first.labels.get(l);
    if (at === undefined) throw new Error(`no label ${l}`);
    return String(at);
  })).insns;
}

function runCard(source: string, init: (s: CoreState) => void = () => {}) {
  const maps = new CardMaps(TABLE);
  const firmware = firmwareRoutines(maps, HELPERS, { cpu: 0 });
  const s = createCoreState({ mem: { emem: maps.emem, ctm: new Uint8Array(256) } });
  init(s);
  const r = run(assembleRel(source), s, { firmware });
  return { maps, s, ...r };
}

const neg = (e: number): number => (-e) >>> 0;

describe('helper calls through the executor', () => {
  it('update, lookup (read back through EMEM), a miss, delete twice', () => {
    const { maps, s, counters } = runCard(`
              local_csr_wr[ACT_LM_ADDR0, 0x40]      ; the key's LM address
              local_csr_wr[ACT_LM_ADDR2, 0x80]      ; the value's
              immed[gprA_8, 0]                      ; r4 = BPF_ANY
              immed[gprA_9, 0]
              nop
              immed[*l$index0[0], 0x0102]           ; key 02 01 00 00
              immed[*l$index2[0], 0xbeef]           ; value ef be 00 00 34 12 00 00
              immed[*l$index2[1], 0x1234]
              br[.${FUNC.update}], defer[2]         ; bpf_map_update_elem(&flows, key, value, BPF_ANY)
              immed[gprA_0, 2]
              immed[gprB_0, @updated]
    updated:  alu[gprA_12, --, B, gprA_0]
              br[.${FUNC.lookup}], defer[2]         ; bpf_map_lookup_elem(&flows, key)
              immed[gprA_0, 2]
              immed[gprB_0, @found]
    found:    alu[gprA_20, --, B, gprA_0]
              emem[read32_swap, $xfer_0, gprA_0, gprB_1, 2], ctx_swap[sig1]
              alu[gprA_13, --, B, $xfer_0]
              alu[gprA_14, --, B, $xfer_1]
              immed[*l$index0[0], 0x0103]           ; another key
              br[.${FUNC.lookup}], defer[2]
              immed[gprA_0, 2]
              immed[gprB_0, @missed]
    missed:   alu[gprA_15, --, B, gprA_0]
              alu[gprA_16, --, B, gprB_1]
              immed[*l$index0[0], 0x0102]
              br[.${FUNC.delete}], defer[2]         ; bpf_map_delete_elem(&flows, key)
              immed[gprA_0, 2]
              immed[gprB_0, @deleted]
    deleted:  alu[gprA_17, --, B, gprA_0]
              br[.${FUNC.delete}], defer[2]
              immed[gprA_0, 2]
              immed[gprB_0, @again]
    again:    alu[gprA_18, --, B, gprA_0]
              alu[gprA_19, --, B, gprB_1]`);
    expect(s.gprA[12]).toBe(0);
    expect(s.gprA[20]).toBe(maps.valueAddress(1, 0));
    expect([s.gprA[13], s.gprA[14]]).toEqual([0xbeef, 0x1234]);
    expect([s.gprA[15], s.gprA[16]]).toEqual([0, 0]);
    expect(s.gprA[17]).toBe(0);
    expect([s.gprA[18], s.gprA[19]]).toEqual([neg(Errno.ENOENT), 0xffffffff]);
    expect(maps.keys(1)).toEqual([]);
    expect(counters.firmwareCalls).toBe(5);
  });

  it('bpf_perf_event_output: data at LM0, size in r5, BPF_F_CURRENT_CPU and ctxLen in r3, the packet from CTM', () => {
    const { maps, s } = runCard(`
              local_csr_wr[ACT_LM_ADDR0, 0x40]
              immed[gprA_10, 3]                     ; r5 = 3 bytes of data
              immed[gprA_6, ~0]                     ; r3 low = BPF_F_CURRENT_CPU
              immed[gprA_7, 2]                      ; r3 high = 2 packet bytes
              immed[*l$index0[0], 0x0807, <<8]      ; data 00 07 08
              br[.${FUNC.perf}], defer[2]
              immed[gprA_0, 3]
              immed[gprB_0, @done]
    done:     alu[gprA_12, --, B, gprA_0]`, (st) => {
      st.mem.ctm.set([0x45, 0x00, 0x00, 0x54], 128);
      st.gprA[22] = 128;
      st.gprA[23] = 4;
    });
    expect(s.gprA[12]).toBe(0);
    expect(maps.events(2)).toEqual([{ index: 0, cpu: 0, data: Uint8Array.of(0, 7, 8, 0x45, 0) }]);
  });

  it('an array lookup past max_entries returns NULL', () => {
    const { s } = runCard(`
              immed[gprA_3, 0x100]
              local_csr_wr[ACT_LM_ADDR0, gprA_3]    ; an address above 0xff: from a register
              nop
              nop
              nop
              immed[*l$index0[0], 2]
              br[.${FUNC.lookup}], defer[2]
              immed[gprA_0, 1]
              immed[gprB_0, @done]
    done:     alu[gprA_12, --, B, gprA_0]`, (st) => {
      st.gprA[0] = 0x55;
    });
    expect(s.gprA[12]).toBe(0);
  });

  it('an ACT_LM_ADDR0 written fewer than three instructions before the routine is a FirmwareError', () => {
    const call = (source: string) => () => runCard(source);
    // Written right before the branch: one instruction (the branch) between it and the routine.
    expect(call(`immed[gprA_0, 1]
                 immed[gprB_0, 4]
                 local_csr_wr[ACT_LM_ADDR0, 0x40]
                 br[.${FUNC.lookup}]
                 nop`)).toThrow(FirmwareError);
    // Written in a defer slot of the call.
    expect(call(`immed[gprB_0, 3]
                 br[.${FUNC.lookup}], defer[2]
                 local_csr_wr[ACT_LM_ADDR0, 0x40]
                 immed[gprA_0, 1]`)).toThrow('bpf_map_lookup_elem at firmware address 12288, table id 1: ACT_LM_ADDR0 (the key): the LM pointer written fewer than 3 instructions before the call');
    // Written right before `br, defer[2]`: exactly three instructions, allowed.
    expect(call(`local_csr_wr[ACT_LM_ADDR0, 0x40]
                 br[.${FUNC.lookup}], defer[2]
                 immed[gprA_0, 1]
                 immed[gprB_0, 4]
                 nop`)).not.toThrow();
  });

  it('a table id the card did not give is a FirmwareError out of the run', () => {
    expect(() => runCard(`br[.${FUNC.update}], defer[2]
                          immed[gprA_0, 9]
                          immed[gprB_0, 3]`)).toThrow('bpf_map_update_elem at firmware address 12289, table id 9: gprA_0 holds table id 9');
  });
});

/**
 * The card firmware's helper routines: what runs when a translated program branches to
 * the FUNC address of bpf_map_lookup_elem (1), bpf_map_update_elem (2),
 * bpf_map_delete_elem (3) or bpf_perf_event_output (25), as `FirmwareRoutine`s for the
 * card-core executor (nic-sim/core/run.ts), over a CardMaps store.
 *
 * The calling convention is the NFP's firmware helper convention (the kernel's
 * drivers/net/ethernet/netronome/nfp/bpf/jit.c map_call_stack_common), as
 * docs/nic-image.md "Helper calls" fixes it for this card: the table id in gprA_0, the
 * return address in gprB_0 (the executor reads it before the routine runs), the key at
 * the LM byte address ACT_LM_ADDR0, an update's value at ACT_LM_ADDR2, both written at
 * least three instructions before the routine runs; update flags in r3's low word
 * (GPR 6); the result in r0 (GPR 0 = low word, GPR 1 = high word, both banks): a value's
 * EMEM address or 0, or 0 / -errno. For bpf_perf_event_output *(project, the same
 * convention)*: the data at ACT_LM_ADDR0, its size in r5's low word (GPR 10), the flags
 * in r3: the low word is the perf event array index (BPF_F_CURRENT_CPU: the calling
 * CPU's), bits 0..19 of the high word (BPF_F_CTXLEN_MASK) the number of packet bytes
 * appended to the sample — as kernel/trace/bpf_trace.c bpf_xdp_event_output builds it
 * and the host's helper (xdp/runtime/helpers/xdp-helpers.ts) does: more than the
 * packet holds is -EFAULT.
 *
 * A call the convention does not allow (an unknown table id, a key, value or data
 * outside LM, an LM pointer written too late, perf output to a map of another type)
 * is a FirmwareError naming the helper, its firmware address and the table id.
 */
import type { CoreState } from '../core/state.js';
import { ENTRY_GPR } from '../card/entry-state.js';
import type { FirmwareRoutine } from '../core/run.js';
import { XdpError } from '../../xdp/errors.js';
import { HelperId } from '../../xdp/helpers/helper-ids.js';
import { helperName } from '../../xdp/helpers/helper-registry.js';
import { Errno } from '../../xdp/maps/bpf-map.js';
import { MAP_TYPE, mapTypeName } from '../../xdp/maps/map-types.js';
import { BPF_F_CURRENT_CPU, type CardMaps } from './card-maps.js';

export type FirmwareErrorKind =
  /** gprA_0 holds no table id of the loaded image. */
  | 'unknown-table'
  /** A key, value or data range runs outside local memory. */
  | 'lm-range'
  /** An LM pointer the routine reads was written fewer than three instructions before the call. */
  | 'hazard'
  /** The helper on a map whose type does not have it (perf output to a non-PERF_EVENT_ARRAY). */
  | 'wrong-map-type'
  /** The packet bytes a perf sample appends cannot be read. */
  | 'packet'
  /** The helper table given to firmwareRoutines is inconsistent. */
  | 'helper-table';

export class FirmwareError extends XdpError {
  readonly kind: FirmwareErrorKind;
  /** The helper id the routine implements (0 when none is concerned). */
  readonly helper: number;
  /** The table id the call named, when it got that far. */
  readonly tableId: number | undefined;
  /** The reason alone. */
  readonly reason: string;
  constructor(kind: FirmwareErrorKind, reason: string, helper = 0, address?: number, tableId?: number) {
    const where = helper !== 0
      ? `${helperName(helper) ?? `helper ${helper}`}${address !== undefined ? ` at firmware address ${address}` : ''}${tableId !== undefined ? `, table id ${tableId}` : ''}: `
      : '';
    super(`${where}${reason}`);
    this.kind = kind;
    this.helper = helper;
    this.tableId = tableId;
    this.reason = reason;
  }
}

/** A helper of the card profile: its id and, for those the firmware implements, its FUNC address. */
export interface FirmwareHelper {
  readonly id: number;
  readonly address?: number;
}

export interface FirmwareOptions {
  /** The CPU the calling thread runs on (perf event slots, BPF_F_CURRENT_CPU). */
  readonly cpu: number;
  /** The packet's bytes now (what a perf sample appends); default ctmPacket. */
  readonly packet?: (s: CoreState) => Uint8Array;
}

/** The helper id at each firmware address a profile lists (the FUNC capability records). */
export function helpersByAddress(helpers: readonly FirmwareHelper[]): Map<number, number> {
  return new Map(helpers.filter((h) => h.address !== undefined).map((h) => [h.address!, h.id]));
}

/** The helpers this firmware has routines for. */
export const FIRMWARE_HELPER_IDS: readonly number[] = [
  HelperId.MAP_LOOKUP_ELEM, HelperId.MAP_UPDATE_ELEM, HelperId.MAP_DELETE_ELEM, HelperId.PERF_EVENT_OUTPUT,
];


/** Registers of the convention (GPR numbers; eBPF rN is the pair 2N, 2N + 1). */
export const FW_REG = {
  /** gprA_0: the table id on entry; r0's low word on return (both banks). */
  TABLE_ID: 0,
  R0_LO: 0,
  R0_HI: 1,
  /** r3 low / high word: perf output's flags (index / ctxLen). */
  R3_LO: 6,
  R3_HI: 7,
  /** r4 low word: update flags. */
  R4_LO: 8,
  /** r5 low word: perf output's data size. */
  R5_LO: 10,
  /** Entry state: the packet's CTM address and length (docs/nic-image.md "Entry state"). */
  PKT_DATA: ENTRY_GPR.data,
  PKT_LEN: ENTRY_GPR.len,
} as const;

/** LM pointers of the convention: the key (and perf data), the update's value. */
export const KEY_LM = 0;
const VALUE_LM = 2;
/** BPF_F_CTXLEN_MASK >> 32. */
const CTXLEN_MASK_HI = 0xfffff;

/** The packet as the entry state places it: CTM bytes [gprA_22, gprA_22 + gprA_23). */
export function ctmPacket(s: CoreState): Uint8Array {
  const at = s.gprA[FW_REG.PKT_DATA] as number;
  const len = s.gprA[FW_REG.PKT_LEN] as number;
  if (at + len > s.mem.ctm.length) {
    throw new FirmwareError('packet', `the packet at CTM 0x${at.toString(16)}+${len} is outside the CTM (0x${s.mem.ctm.length.toString(16)} bytes)`);
  }
  return s.mem.ctm.subarray(at, at + len);
}

/** r0 = v (both banks): a 32-bit address or a small signed result, sign-extended to 64 bits. */
function setR0(s: CoreState, v: number): void {
  const lo = v >>> 0;
  const hi = v < 0 ? 0xffffffff : 0;
  s.gprA[FW_REG.R0_LO] = lo;
  s.gprB[FW_REG.R0_LO] = lo;
  s.gprA[FW_REG.R0_HI] = hi;
  s.gprB[FW_REG.R0_HI] = hi;
}

/**
 * The firmware routines by FUNC address, for every helper of `helpers` this firmware
 * implements (1, 2, 3, 25) that has an address; other helpers are not the firmware's.
 */
export function firmwareRoutines(
  maps: CardMaps,
  helpers: readonly FirmwareHelper[],
  opts: FirmwareOptions,
): Map<number, FirmwareRoutine> {
  const packet = opts.packet ?? ctmPacket;
  const cpu = opts.cpu;
  const out = new Map<number, FirmwareRoutine>();
  const owner = new Map<number, number>();

  for (const h of helpers) {
    if (h.address === undefined || !FIRMWARE_HELPER_IDS.includes(h.id)) continue;
    const address = h.address;
    if (!(Number.isInteger(address) && address >= 0)) {
      throw new FirmwareError('helper-table', `address ${address} is not an instruction address`, h.id);
    }
    const other = owner.get(address);
    if (other !== undefined) {
      throw new FirmwareError('helper-table', `address ${address} is also ${helperName(other) ?? `helper ${other}`}'s`, h.id, address);
    }
    owner.set(address, h.id);
    const id = h.id;

    /** The map index of table id `table` (gprA_0's). */
    const mapOf = (table: number): number => {
      const i = maps.mapIndexOfTable(table);
      if (i === undefined) {
        throw new FirmwareError('unknown-table', `gprA_0 holds table id ${table}, which the card's map table (ids 1..${maps.length}) does not have`, id, address, table);
      }
      return i;
    };
    const tableOf = (s: CoreState): number => s.gprA[FW_REG.TABLE_ID] as number;
    /** The LM address of `len` bytes at pointer n, checked for the write delay and LM's end. */
    const lmAt = (s: CoreState, n: number, len: number, what: string, table: number): number => {
      if ((s.lmDelay[n] as number) > 0) {
        throw new FirmwareError('hazard', `ACT_LM_ADDR${n} (the ${what}): the LM pointer written fewer than 3 instructions before the call`, id, address, table);
      }
      const at = s.lmAddr[n] as number;
      if (at + len > s.lm.length) {
        throw new FirmwareError('lm-range', `the ${what} at LM 0x${at.toString(16)}+${len} (ACT_LM_ADDR${n}) runs past local memory (0x${s.lm.length.toString(16)} bytes)`, id, address, table);
      }
      return at;
    };
    /** `len` bytes of LM at pointer n (lmAt): a view, for a key only deleted; a copy (`keep`) for what a map stores. */
    const lmBytes = (s: CoreState, n: number, len: number, what: string, table: number, keep = false): Uint8Array => {
      const at = lmAt(s, n, len, what, table);
      return keep ? s.lm.slice(at, at + len) : s.lm.subarray(at, at + len);
    };

    let routine: FirmwareRoutine;
    switch (id) {
      case HelperId.MAP_LOOKUP_ELEM:
        routine = (s) => {
          const table = tableOf(s);
          const i = mapOf(table);
          setR0(s, maps.lookupAt(i, s.lm, lmAt(s, KEY_LM, maps.defs[i]!.keySize, 'key', table)));
        };
        break;
      case HelperId.MAP_UPDATE_ELEM:
        routine = (s) => {
          const table = tableOf(s);
          const i = mapOf(table);
          const def = maps.defs[i]!;
          const key = lmBytes(s, KEY_LM, def.keySize, 'key', table, true);
          const value = lmBytes(s, VALUE_LM, def.valueSize, 'value', table, true);
          setR0(s, maps.update(i, key, value, s.gprA[FW_REG.R4_LO] as number));
        };
        break;
      case HelperId.MAP_DELETE_ELEM:
        routine = (s) => {
          const table = tableOf(s);
          const i = mapOf(table);
          setR0(s, maps.delete(i, lmBytes(s, KEY_LM, maps.defs[i]!.keySize, 'key', table)));
        };
        break;
      default: // PERF_EVENT_OUTPUT
        routine = (s) => {
          const table = tableOf(s);
          const i = mapOf(table);
          const def = maps.defs[i]!;
          if (def.type !== MAP_TYPE.PERF_EVENT_ARRAY) {
            throw new FirmwareError('wrong-map-type', `map '${def.name}' is a ${mapTypeName(def.type)}, not a PERF_EVENT_ARRAY`, id, address, table);
          }
          const flagsLo = s.gprA[FW_REG.R3_LO] as number;
          const ctxLen = (s.gprA[FW_REG.R3_HI] as number) & CTXLEN_MASK_HI;
          const data = lmBytes(s, KEY_LM, s.gprA[FW_REG.R5_LO] as number, 'data', table, true);
          let sample = data;
          if (ctxLen > 0) {
            const pkt = packet(s);
            if (ctxLen > pkt.length) {
              setR0(s, -Errno.EFAULT);
              return;
            }
            sample = new Uint8Array(data.length + ctxLen);
            sample.set(data);
            sample.set(pkt.subarray(0, ctxLen), data.length);
          }
          const index = flagsLo === BPF_F_CURRENT_CPU ? cpu : flagsLo;
          setR0(s, maps.output(i, index, cpu, sample));
        };
    }
    out.set(address, routine);
  }
  return out;
}

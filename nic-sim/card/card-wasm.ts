/**
 * A card's timed executor as WebAssembly (nic-sim/core/compile-wasm.ts, through
 * wasm-timed.ts): what the card tells it beyond the image — where its memories lie
 * (card-memory.ts), the entry state a timed packet starts from (entry-state.ts, as
 * `Card.enter` sets it for a timed run), the maps whose lookups it may run itself
 * (ARRAY maps with 4-byte keys, whose lookup costs cycles only), and the firmware calls
 * it prices itself (every routine on every map, at the meter's price), with where each
 * HASH map's key index lies when the executor finds keys itself.
 */
import type { CardProfile } from '../../caps/profile.js';
import type { NativeHash, NativeLookup, PricedCall, WasmEntry } from '../core/compile-wasm.js';
import type { CompileOptions } from '../core/compile.js';
import type { TimedProgram } from '../core/compile-timed.js';
import type { StepContext } from '../core/context.js';
import type { StaticPrices } from '../core/meter.js';
import { RETURN_GPR_B } from '../core/run.js';
import type { CoreState } from '../core/state.js';
import { wasmTimed } from '../core/wasm-timed.js';
import type { CardMaps } from '../firmware/card-maps.js';
import { KEY_LM } from '../firmware/routines.js';
import type { Insn } from '../isa/instructions.js';
import { MAX_TARGET } from '../isa/tables.js';
import { HelperId } from '../../xdp/helpers/helper-ids.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import { COMMAND_MEMORIES, DIRTY_CELL, LOCK_MAPS, type CardMemory } from './card-memory.js';
import { ENTRY_GPR, PKT_START, STACK_TOP_WINDOW } from './entry-state.js';

export interface CardWasmParts {
  readonly insns: readonly Insn[];
  readonly compile: CompileOptions & { readonly prices: StaticPrices };
  readonly memory: CardMemory;
  readonly maps: CardMaps;
  readonly profile: CardProfile;
  readonly state: CoreState;
  readonly context: StepContext;
  /** The work's command counts, one per memory. */
  readonly memories: number;
  /** Whether the image can move the packet's start (then the headroom is cleared too). */
  readonly movesStart: boolean;
  readonly stackBytes: number;
}

/** The entry state of a timed run (ifindex 1, rx queue 0). */
function entryState(p: CardWasmParts): WasmEntry {
  return {
    packetStart: PKT_START, clearHeadroom: p.movesStart, stackBytes: p.stackBytes,
    gprs: [
      { n: ENTRY_GPR.data, value: PKT_START }, { n: ENTRY_GPR.len, value: 'length' }, { n: ENTRY_GPR.ifindex, value: 1 },
      { n: ENTRY_GPR.rxQueue, value: 0 }, { n: ENTRY_GPR.stackWindow, value: STACK_TOP_WINDOW },
    ],
    dirtyCell: p.memory.layout.exec.cells + 4 * DIRTY_CELL,
  };
}

/** The ARRAY maps whose lookups the executor runs itself, if any. */
function nativeLookup(p: CardWasmParts): NativeLookup | undefined {
  const address = p.profile.helpers.find((h) => h.id === HelperId.MAP_LOOKUP_ELEM)?.address;
  const price = p.compile.prices.firmwarePrice?.bind(p.compile.prices);
  if (address === undefined || price === undefined || !p.compile.firmware.has(address)) return undefined;
  const arrays = p.maps.defs.flatMap((d, i) => {
    if (d.type !== MAP_TYPE.ARRAY || d.keySize !== 4) return [];
    const table = p.maps.tableId(i);
    const cost = price(address, table);
    if (cost === null || cost.reads !== 0 || cost.writes !== 0 || cost.lockCycles !== 0) return [];
    return [{ table, base: p.maps.base(i), stride: p.maps.stride(i), maxEntries: d.maxEntries, cycles: cost.cycles }];
  });
  return arrays.length === 0 ? undefined : { address, keyPointer: KEY_LM, returnGpr: RETURN_GPR_B, maxTarget: MAX_TARGET, arrays };
}

/**
 * Every firmware call the executor can price itself: each routine on each of the card's
 * maps whose price the meter gives (not null: the call does not fail), within the work's
 * command counts and the memory's lock counts.
 */
function pricedCalls(p: CardWasmParts): PricedCall[] {
  const price = p.compile.prices.firmwarePrice?.bind(p.compile.prices);
  if (price === undefined) return [];
  const lookup = p.profile.helpers.find((h) => h.id === HelperId.MAP_LOOKUP_ELEM)?.address;
  return [...p.compile.firmware.keys()].flatMap((address) => p.maps.defs.flatMap((def, i) => {
    const table = p.maps.tableId(i);
    const cost = price(address, table);
    if (cost === null || cost.memory >= p.memories || cost.map >= LOCK_MAPS) return [];
    const hash = address === lookup && def.type === MAP_TYPE.HASH ? nativeHash(p, i) : undefined;
    return [{ address, table, price: cost, ...(hash ? { hash } : {}) }];
  }));
}

/** Where map i's key index and values lie, for the executor's own HASH lookups (when the index is in the card memory). */
function nativeHash(p: CardWasmParts, i: number): NativeHash | undefined {
  const place = p.maps.hashIndex(i);
  if (place === undefined) return undefined;
  const at = p.memory.layout.index;
  return {
    keyPointer: KEY_LM, returnGpr: RETURN_GPR_B, maxTarget: MAX_TARGET, keySize: place.keySize,
    table: at + place.table, mask: place.mask, keys: at + place.keys, base: p.maps.base(i), stride: p.maps.stride(i),
  };
}

/** The executor, or undefined when the image does not compile to it (the card then runs generated JavaScript). */
export function cardWasmExecutor(p: CardWasmParts): TimedProgram | undefined {
  if (p.memories > COMMAND_MEMORIES) return undefined;
  const lookup = nativeLookup(p);
  const t = wasmTimed(p.insns, {
    ...p.compile, layout: p.memory.execLayout, memory: p.memory.memory, state: p.state, context: p.context, memories: p.memories,
    entry: entryState(p), ...(lookup ? { lookup } : {}), priced: pricedCalls(p),
  });
  return 'run' in t ? t : undefined;
}

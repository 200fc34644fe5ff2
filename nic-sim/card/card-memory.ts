/**
 * A card's memories in one WebAssembly memory: the core's registers (both GPR banks, the
 * transfer registers, the LM pointers and their write delays), its local memory, the
 * packet's CTM and the maps' EMEM. The JavaScript executor, the firmware and the maps
 * work on typed-array views of it, and code compiled to WebAssembly works on the same
 * bytes at the offsets `CardMemoryLayout` gives, with its own scratch beside them (the
 * condition codes, the packet's work, per-stretch counts), a region for the packet
 * path that runs a whole packet in WebAssembly (nic-sim/replay/packet-path.ts), and the
 * HASH maps' key indexes (card-maps.ts), where the executor can find keys itself. It is sized once and never grows (a
 * grown memory would leave every view stale); EMEM, the only part whose size depends on
 * the image, is at most 1 GiB (card-maps.ts).
 */
import { GPR_COUNT, LM_BYTES, LM_INDEX_COUNT, XFER_COUNT } from '../isa/tables.js';
import type { CoreRegisters } from '../core/state.js';
import type { CoreRegions, WasmExecLayout } from '../core/compile-wasm.js';

const PAGE = 65536;

/** Byte offsets of each region in the memory. */
export interface CardMemoryLayout extends CoreRegions {
  /** The WebAssembly executor's scratch (nic-sim/core/compile-wasm.ts WasmExecLayout): cells, work, segments, counts. */
  readonly exec: {
    readonly cells: number; readonly work: number; readonly segs: number; readonly commands: number; readonly stretches: number; readonly taken: number;
    readonly pcCycles: number; readonly pcSleep: number; readonly locks: number;
  };
  readonly segCapacity: number;
  readonly stretchCapacity: number;
  readonly takenCapacity: number;
  /** The packet path's region (nic-sim/replay/packet-path.ts: its tallies and RSS tables), PATH_BYTES long. */
  readonly path: number;
  /** The HASH maps' key indexes (card-maps.ts `allocate`). */
  readonly index: number;
  /** Bytes in all. */
  readonly bytes: number;
}

/** The executor's i32 cells (compile-wasm.ts CELL), the last of them how far the last packet reached in CTM. */
const EXEC_CELLS = 16;
export const DIRTY_CELL = 15;
/** Segments the executor's area holds before it moves them out to the packet's work. */
const SEG_CAPACITY = 256;
/** The packet path's region: room for its tallies and a Toeplitz table of 36 input bytes with its indirection table. */
export const PATH_BYTES = 40960;
/** Memories the command counts cover (the timing model's: local, cls, ctm, imem, emem). */
export const COMMAND_MEMORIES = 16;
/** Maps whose lock time the executor adds up itself (calls on maps past these go through JavaScript). */
export const LOCK_MAPS = 64;

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Where each region lies for a CTM of `ctmBytes`, an EMEM of `ememBytes` and key indexes of `indexBytes`, with room
 * for the WebAssembly executor's counts over an image of `programLength` instructions.
 */
export function cardMemoryLayout(ctmBytes: number, ememBytes: number, programLength = 0, indexBytes = 0): CardMemoryLayout {
  let at = 0;
  const take = (bytes: number): number => {
    const here = at;
    at = align8(at + bytes);
    return here;
  };
  const gprs = take(8 * GPR_COUNT);
  const xferIn = take(4 * XFER_COUNT);
  const xferOut = take(4 * XFER_COUNT);
  const lmAddr = take(4 * LM_INDEX_COUNT);
  const lmDelay = take(LM_INDEX_COUNT);
  const lm = take(LM_BYTES);
  const stretchCapacity = 2 * programLength + 8;
  const takenCapacity = programLength + 8;
  const exec = {
    cells: take(4 * EXEC_CELLS), work: take(8 * 4), segs: take(8 * SEG_CAPACITY), commands: take(8 * COMMAND_MEMORIES),
    stretches: take(8 * stretchCapacity), taken: take(8 * takenCapacity), pcCycles: take(8 * (programLength + 1)),
    pcSleep: take(8 * (programLength + 1)), locks: take(8 * LOCK_MAPS),
  };
  const path = take(PATH_BYTES);
  const ctm = take(ctmBytes);
  const emem = take(ememBytes);
  const index = take(indexBytes);
  return { gprs, xferIn, xferOut, lmAddr, lmDelay, lm, ctm, emem, exec, segCapacity: SEG_CAPACITY, stretchCapacity, takenCapacity, path, index, bytes: at };
}

export class CardMemory {
  readonly memory: WebAssembly.Memory;
  readonly layout: CardMemoryLayout;
  readonly registers: CoreRegisters;
  readonly ctm: Uint8Array;
  readonly emem: Uint8Array;
  /** The HASH maps' key indexes (card-maps.ts). */
  readonly index: Uint8Array;
  /** The executor's i32 cells (`DIRTY_CELL`: CTM bytes the last packet may have written, cleared before the next). */
  readonly cells: Int32Array;

  constructor(ctmBytes: number, ememBytes: number, programLength = 0, indexBytes = 0) {
    this.layout = cardMemoryLayout(ctmBytes, ememBytes, programLength, indexBytes);
    const pages = Math.max(1, Math.ceil(this.layout.bytes / PAGE));
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const b = this.memory.buffer;
    const l = this.layout;
    this.registers = {
      gprs: new Uint32Array(b, l.gprs, 2 * GPR_COUNT),
      xferIn: new Uint32Array(b, l.xferIn, XFER_COUNT),
      xferOut: new Uint32Array(b, l.xferOut, XFER_COUNT),
      lmAddr: new Uint32Array(b, l.lmAddr, LM_INDEX_COUNT),
      lmDelay: new Uint8Array(b, l.lmDelay, LM_INDEX_COUNT),
      lm: new Uint8Array(b, l.lm, LM_BYTES),
    };
    this.ctm = new Uint8Array(b, l.ctm, ctmBytes);
    this.emem = new Uint8Array(b, l.emem, ememBytes);
    this.index = new Uint8Array(b, l.index, indexBytes);
    this.cells = new Int32Array(b, l.exec.cells, EXEC_CELLS);
  }

  /** The regions as the WebAssembly executor addresses them. */
  get execLayout(): WasmExecLayout {
    const l = this.layout;
    return {
      gprs: l.gprs, xferIn: l.xferIn, xferOut: l.xferOut, lmAddr: l.lmAddr, lmDelay: l.lmDelay, lm: l.lm,
      ctm: l.ctm, ctmBytes: this.ctm.length, emem: l.emem, ememBytes: this.emem.length,
      cells: l.exec.cells, work: l.exec.work, segs: l.exec.segs, segCapacity: l.segCapacity, commands: l.exec.commands,
      stretches: l.exec.stretches, stretchCapacity: l.stretchCapacity, taken: l.exec.taken, takenCapacity: l.takenCapacity, pcCycles: l.exec.pcCycles,
      pcSleep: l.exec.pcSleep, locks: l.exec.locks, lockMaps: LOCK_MAPS,
      pages: this.memory.buffer.byteLength / PAGE,
    };
  }
}

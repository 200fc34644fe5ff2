/**
 * A card's memories in one WebAssembly memory: the core's registers (both GPR banks, the
 * transfer registers, the LM pointers and their write delays), its local memory, the
 * packet's CTM and the maps' EMEM. The JavaScript executor, the firmware and the maps
 * work on typed-array views of it, and code compiled to WebAssembly works on the same
 * bytes at the offsets `CardMemoryLayout` gives. It is sized once and never grows (a
 * grown memory would leave every view stale); EMEM, the only part whose size depends on
 * the image, is at most 1 GiB (card-maps.ts).
 */
import { GPR_COUNT, LM_BYTES, LM_INDEX_COUNT, XFER_COUNT } from '../isa/tables.js';
import type { CoreRegisters } from '../core/state.js';

const PAGE = 65536;

/** Byte offsets of each region in the memory. */
export interface CardMemoryLayout {
  /** Bank A's GPRs, then bank B's (GPR_COUNT 32-bit words each). */
  readonly gprs: number;
  readonly xferIn: number;
  readonly xferOut: number;
  /** ACT_LM_ADDR0…3 (32-bit words) and their write delays (one byte each). */
  readonly lmAddr: number;
  readonly lmDelay: number;
  readonly lm: number;
  readonly ctm: number;
  readonly emem: number;
  /** Bytes in all. */
  readonly bytes: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

/** Where each region lies for a CTM of `ctmBytes` and an EMEM of `ememBytes`. */
export function cardMemoryLayout(ctmBytes: number, ememBytes: number): CardMemoryLayout {
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
  const ctm = take(ctmBytes);
  const emem = take(ememBytes);
  return { gprs, xferIn, xferOut, lmAddr, lmDelay, lm, ctm, emem, bytes: at };
}

export class CardMemory {
  readonly memory: WebAssembly.Memory;
  readonly layout: CardMemoryLayout;
  readonly registers: CoreRegisters;
  readonly ctm: Uint8Array;
  readonly emem: Uint8Array;

  constructor(ctmBytes: number, ememBytes: number) {
    this.layout = cardMemoryLayout(ctmBytes, ememBytes);
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
  }
}

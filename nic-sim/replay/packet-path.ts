/**
 * The packet path (built from nic-sim/replay/assembly/packet-path.ts into
 * dist/wasm/packet-path.wasm) linked to one card: over the card's memory, calling the
 * card's compiled code (card.ts `fusion`) and the card's timing core directly, so that a
 * packet's arrival, RSS queue, admission, run and hand-over to its engine are one call
 * from JavaScript instead of a dozen. It exists only where the card's timed code runs
 * as WebAssembly; card-engine.ts uses it for each frame it can and finishes in
 * JavaScript what the path hands back.
 */
import type { CardProfile } from '../../caps/profile.js';
import { NfpAction } from '../card/actions.js';
import type { CardFusion } from '../card/card.js';
import { DIRTY_CELL, PATH_BYTES, type CardMemory } from '../card/card-memory.js';
import { CELL } from '../core/compile-wasm.js';
import { TALLY_FIELDS, type CardTiming } from '../timing/card-timing.js';
import { wasmModule } from '../timing/wasm-module.js';

/** What `packet` answers besides an XDP action (the AssemblyScript source names them the same). */
export const PATH_CODE = { OVERFLOW: -1, OVERSIZE: -2, RESUME: -3, FINISH_IN_JS: -4, OUTSIDE: -5, NOT_TAKEN: -6 } as const;

/** Input bytes of the longest RSS input (two IPv6 addresses and two ports): the Toeplitz table's rows the path needs. */
const RSS_ROWS = 36;

interface PathExports {
  init(
    ctmAt: number, startAt: number, ctmLength: number, dataAt: number, lenAt: number, actionAt: number,
    segNAt: number, heldAt: number, dirtyAt: number, workAt: number, segsAt: number, segCap: number,
    tallyAt: number, tableAt: number, indirectionAt: number, mask: number,
    linkRate: number, clockHz: number, period: number, mtuBytes: number, split: number,
    rx: number, tx: number, pass: number, drop: number, codeDrop: number, codePass: number, codeTx: number,
  ): void;
  queueOf(len: number): number;
  packet(capLen: number, origLen: number, id: number): number;
  engine(): number;
  resumePc(): number;
}

/** The arrival tallies in a card memory's path region (card-timing.ts keeps its numbers there, and the path adds to them). */
export function pathTally(memory: CardMemory): Float64Array {
  return new Float64Array(memory.memory.buffer, memory.layout.path, TALLY_FIELDS);
}

export class PacketPath {
  /** The card's CTM; its segment area (the last packet's segments, `segmentCount` of them) and the executor's cells. */
  private readonly ctm: Uint8Array;
  readonly segments: Float64Array;
  private readonly cells: Int32Array;

  private constructor(private readonly x: PathExports, readonly fusion: CardFusion) {
    const m = fusion.memory;
    this.ctm = m.ctm;
    this.cells = m.cells;
    this.segments = new Float64Array(m.memory.buffer, m.layout.exec.segs, m.layout.segCapacity);
  }

  /**
   * The path for a card and its timing, or undefined when there is none: the card's code
   * does not run as WebAssembly, or the RSS key is too short for every flow's input (the
   * JavaScript hash then raises its error) or its tables too large for the path's region.
   */
  static link(fusion: CardFusion | undefined, timing: CardTiming, profile: CardProfile): PacketPath | undefined {
    if (fusion === undefined) return undefined;
    const { toeplitz, indirection, mask } = timing.rssTables();
    const m = fusion.memory;
    const l = m.layout;
    const tableAt = l.path + 8 * TALLY_FIELDS;
    const indirectionAt = tableAt + 4 * 256 * RSS_ROWS;
    if (toeplitz.length < 256 * RSS_ROWS || indirectionAt + 2 * indirection.length > l.path + PATH_BYTES) return undefined;
    new Uint32Array(m.memory.buffer, tableAt, 256 * RSS_ROWS).set(toeplitz.subarray(0, 256 * RSS_ROWS));
    new Uint16Array(m.memory.buffer, indirectionAt, indirection.length).set(indirection);
    const instance = new WebAssembly.Instance(wasmModule('packet-path.wasm'), {
      env: { memory: m.memory },
      card: { run: fusion.run },
      core: timing.pathImports(),
    });
    const x = instance.exports as unknown as PathExports;
    const load = timing.load;
    const dp = profile.timing.datapath;
    const gprAt = (n: number): number => l.gprs + 4 * n;
    const cellAt = (k: number): number => l.exec.cells + 4 * k;
    x.init(
      l.ctm, fusion.packetStart, m.ctm.length, gprAt(fusion.gpr.data), gprAt(fusion.gpr.len), gprAt(0),
      cellAt(CELL.segN), cellAt(CELL.held), cellAt(DIRTY_CELL), l.exec.work, l.exec.segs, l.segCapacity,
      l.path, tableAt, indirectionAt, mask,
      load.kind === 'link' ? load.mbps * 1e6 : 0, timing.clockHz, load.kind === 'rate' ? timing.clockHz / (load.mpps * 1e6) : 0,
      timing.mtu ?? -1, profile.packetSplitBytes,
      dp.rxCycles, dp.txCycles, dp.passCycles, dp.dropCycles, NfpAction.DROP, NfpAction.PASS, NfpAction.TX,
    );
    return new PacketPath(x, fusion);
  }

  /** A frame run through the path (PATH_CODE or an XDP action): its bytes copied to the packet's start first. */
  packet(frame: Uint8Array, origLen: number, id: number): number {
    this.ctm.set(frame, this.fusion.packetStart);
    return this.x.packet(frame.length, origLen, id);
  }

  /** The RSS queue the path gives the frame (placed at the packet's start as `packet` places it, and cleared by the next run). */
  queueOf(frame: Uint8Array): number {
    this.ctm.set(frame, this.fusion.packetStart);
    const reach = this.fusion.packetStart + frame.length;
    if (this.cells[DIRTY_CELL]! < reach) this.cells[DIRTY_CELL] = reach;
    return this.x.queueOf(frame.length);
  }

  /** The engine of the packet last taken in, and where the interpreter goes on after RESUME. */
  engine(): number {
    return this.x.engine();
  }

  resumePc(): number {
    return this.x.resumePc();
  }

  /** Segments the last packet the path finished left in the area. */
  get segmentCount(): number {
    return this.cells[CELL.segN]!;
  }
}

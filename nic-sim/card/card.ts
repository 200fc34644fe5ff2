/**
 * One card core running one image, packet by packet (docs/nic-image.md "Entry
 * state"): the image is loaded for the profile (its maps allocated in EMEM and given
 * table ids, relocations resolved, firmware routines installed at the caps' FUNC
 * addresses), and each packet is placed in CTM at PKT_START, its context put in
 * GPRs 22–25, the image run from its first instruction to its end address, and the
 * action (gprA_0) and the packet as the image left it (CTM [GPR 22, GPR 22 + GPR 23))
 * read back. The functional model: no time (the simulator adds it around the
 * counters this returns).
 */
import type { CardProfile } from '../../caps/profile.js';
import { CoreError, DEFAULT_STEP_LIMIT, StepContext, createCoreState, createCounters, resetCounters, run, type CoreState, type RunCounters, type RunOptions } from '../core/index.js';
import { compileProgram, type CompiledRun } from '../core/compile.js';
import type { FirmwareRoutine } from '../core/run.js';
import { compileTimed, type TimedProgram } from '../core/compile-timed.js';
import type { Meter, TimedMeter } from '../core/meter.js';
import { CardMaps } from '../firmware/card-maps.js';
import { CardMemory, DIRTY_CELL } from './card-memory.js';
import { cardWasmExecutor } from './card-wasm.js';
import { FirmwareError, firmwareRoutines } from '../firmware/routines.js';
import { loadImage, type CardImage, type LoadedImage } from '../image/index.js';
import type { Insn } from '../isa/instructions.js';
import { XdpError } from '../../xdp/errors.js';
import { MAX_BPF_STACK } from '../../xdp/runtime/vm.js';
import { NfpAction, nfpActionName } from './actions.js';
import { ENTRY_GPR, PKT_START, STACK_TOP_WINDOW } from './entry-state.js';

export { PKT_START } from './entry-state.js';
/**
 * Largest packet the functional model holds in CTM (an IP datagram's limit). The real
 * card keeps only the first packet-split bytes in CTM; the offload rules refuse
 * programs that reach past them, and the timing model prices the rest.
 */
export const CARD_MAX_PACKET = 65535;
/** The eBPF stack's bytes in LM (cleared before each packet, as the host engine starts each run with a zeroed stack). */
const STACK_BYTES = MAX_BPF_STACK;

export interface CardOptions {
  /** The image file, for messages. */
  readonly file: string;
  /** CPU number perf events carry. */
  readonly cpu?: number;
  /** PSEUDO_RND_NUM source (a validator feeds the host engine's sequence). */
  readonly random?: () => number;
  /** Card instructions one packet may run (default the executor's). */
  readonly stepLimit?: number;
  /** Called before each card instruction (a validator's trace). */
  readonly onStep?: (pc: number, s: CoreState) => void;
  /** Told of every instruction, command and firmware call (the timing model, nic-sim/timing/packet-meter.ts). */
  readonly meter?: Meter;
  /**
   * A timing meter with fixed prices for `runTimed`: compiled into the image's blocks
   * (nic-sim/core/compile-timed.ts) where the image compiles, told of each instruction
   * by the interpreter where it does not.
   */
  readonly timed?: TimedMeter;
  /**
   * Results' bytes are a view of packet memory, valid until the next packet, instead of a
   * copy (a replay that writes them out at once saves a copy per packet).
   */
  readonly viewBytes?: boolean;
  /**
   * `compiled` (the default): the image as generated JavaScript (nic-sim/core/compile.ts)
   * where it compiles, else the interpreter; `interpreter`: always the interpreter;
   * `wasm`: timed runs as generated WebAssembly (nic-sim/core/compile-wasm.ts) where the
   * image compiles to it, else as `compiled`. With `onStep` the interpreter runs, as only
   * it stops before each instruction.
   */
  readonly executor?: 'compiled' | 'interpreter' | 'wasm';
}

export interface PacketMeta {
  readonly ifindex?: number;
  readonly rxQueue?: number;
}

/**
 * What a timed run gives back (its timing is in the meter's work); the card reuses it,
 * and it and its bytes are valid until the next packet runs.
 */
export interface TimedPacketResult {
  /** The NFP action code the image left (NfpAction), or an exception drop when the run failed. */
  readonly action: number;
  /** The packet's length as the image left it. */
  readonly length: number;
  /** Why the run failed (an executor or firmware error), when it did. */
  readonly error: string | undefined;
  /** The packet as the image left it (made when asked: a replay that writes nothing never asks). */
  bytes(): Uint8Array;
}

/** The one TimedPacketResult of a card. */
class TimedResult implements TimedPacketResult {
  action = 0;
  length = 0;
  error: string | undefined = undefined;
  /** The packet as it arrived, when the run failed (an exception drop passes it on unchanged). */
  failed: Uint8Array | undefined = undefined;
  constructor(private readonly view: () => Uint8Array) {}

  bytes(): Uint8Array {
    return this.failed ?? this.view();
  }
}

export interface CardPacketResult {
  /** The NFP action code the image left (NfpAction), or an exception drop when the run failed. */
  readonly action: number;
  readonly actionName: string;
  /** The packet as the image left it. */
  readonly bytes: Uint8Array;
  /** What the run counted (the card's one set of counters: valid until its next run). */
  readonly counters: RunCounters;
  /** Why the run failed (an executor or firmware error), when it did. */
  readonly error?: string;
}

/**
 * The card's side of a packet path (nic-sim/replay/packet-path.ts): the compiled code's
 * `run(len)`, where the card's memories and entry registers lie, and the JavaScript ends
 * of a packet the path runs — `begin` before each, then `ended` when the path finished
 * it, `finish` when JavaScript is to (the interpreter going on at `resume`, or −1), or
 * `failed` when a call out threw.
 */
export interface CardFusion {
  readonly run: (len: number) => number;
  readonly memory: CardMemory;
  readonly packetStart: number;
  readonly gpr: typeof ENTRY_GPR;
  begin(): void;
  ended(): TimedPacketResult;
  finish(resume: number, packet: Uint8Array): TimedPacketResult;
  failed(e: unknown, packet: Uint8Array): TimedPacketResult;
}

const IDLE: CoreState['mul'] = { k: 'idle' };

/** Whether the instruction can write GPR n of either bank (its destination, or ld_field's merged operand). */
function writesGpr(i: Insn, n: number): boolean {
  const hits = (op: { readonly k: string; readonly n?: number }) => op.k === 'gpr' && op.n === n;
  switch (i.cls) {
    case 'alu': case 'alu_shf': case 'immed': case 'mul': return 'dst' in i && hits(i.dst);
    case 'ld_field': return hits(i.swap ? i.b : i.a);
    default: return false;
  }
}

/** A GPR in both banks. */
function setBoth(s: CoreState, n: number, v: number): void {
  s.gprA[n] = v;
  s.gprB[n] = v;
}

export class Card {
  readonly maps: CardMaps;
  /** The registers, local memory, CTM and EMEM, in one WebAssembly memory. */
  readonly memory: CardMemory;
  readonly image: LoadedImage;
  private readonly firmware: ReadonlyMap<number, FirmwareRoutine>;
  private readonly state: CoreState;
  private readonly ctm: Uint8Array;
  /** CTM bytes the last packet may have written (cleared before the next): a cell of the card memory, which the WebAssembly executor keeps too. */
  private get dirtyEnd(): number {
    return this.memory.cells[DIRTY_CELL]!;
  }

  private set dirtyEnd(end: number) {
    this.memory.cells[DIRTY_CELL] = end;
  }
  private readonly counters = createCounters();
  private readonly context: StepContext;
  /** The executor's options, the same for every packet. */
  private readonly runOptions: RunOptions;
  /** The image compiled, when it is run that way. */
  private readonly compiled: CompiledRun | undefined;
  private readonly meter: Meter | null;
  /** Whether an instruction writes the packet-start GPR (only then can anything reach CTM below PKT_START). */
  private readonly movesStart: boolean;
  private readonly timedResult = new TimedResult(() => this.packetBytes());
  /** The image compiled with the timed meter's prices, when it is run that way, and the interpreter's options for the rest of a run it hands back. */
  private timed: TimedProgram | undefined;
  private executor: 'wasm' | 'compiled' | 'interpreter' = 'interpreter';
  /** The timed executor still to make (executor `wasm`: made at the first timed run), undefined once made. */
  private makeTimed: (() => { readonly program: TimedProgram; readonly executor: 'wasm' | 'compiled' } | undefined) | undefined;
  private readonly timedOptions: RunOptions | undefined;

  constructor(img: CardImage, readonly profile: CardProfile, private readonly opts: CardOptions) {
    // The maps size EMEM; the card's memory holds it beside CTM and the core's registers.
    let memory: CardMemory | undefined;
    this.maps = new CardMaps(img.maps.map(({ initial, ...m }) => ({ ...m, ...(initial.length ? { initial } : {}) })), {
      allocate: (ememBytes, indexBytes) => (memory = new CardMemory(PKT_START + CARD_MAX_PACKET, ememBytes, img.code.length, indexBytes)),
    });
    this.memory = memory!;
    this.image = loadImage(img, profile, {
      file: opts.file,
      mapIds: img.maps.map((_, i) => this.maps.tableId(i)),
      mapValueAddress: (i) => this.maps.valueAddress(i, 0),
    });
    this.firmware = firmwareRoutines(this.maps, profile.helpers, { cpu: opts.cpu ?? 0 });
    this.movesStart = this.image.insns.some((i) => i !== undefined && writesGpr(i, ENTRY_GPR.data));
    this.ctm = this.memory.ctm;
    this.state = createCoreState({
      registers: this.memory.registers,
      mem: { ctm: this.ctm, emem: this.maps.emem },
      ...(opts.random ? { random: opts.random } : {}),
    });
    this.context = new StepContext(this.state);
    this.runOptions = {
      startPc: this.image.base, endPc: this.image.endPc, firmware: this.firmware, counters: this.counters, context: this.context,
      ...(opts.onStep ? { onStep: opts.onStep } : {}),
      ...(opts.meter ? { meter: opts.meter } : {}),
      ...(opts.stepLimit !== undefined ? { stepLimit: opts.stepLimit } : {}),
    };
    this.meter = opts.meter ?? null;
    if ((opts.executor ?? 'compiled') !== 'interpreter' && opts.onStep === undefined) {
      const c = compileProgram(this.image.insns, {
        startPc: this.image.base, endPc: this.image.endPc, firmware: this.firmware, stepLimit: opts.stepLimit ?? DEFAULT_STEP_LIMIT,
      });
      if ('run' in c) this.compiled = c.run;
    }
    if (opts.timed) {
      this.timedOptions = { ...this.runOptions, meter: opts.timed };
      const executor = opts.executor ?? 'compiled';
      if (executor !== 'interpreter' && opts.onStep === undefined) {
        const o = {
          startPc: this.image.base, endPc: this.image.endPc, firmware: this.firmware, stepLimit: opts.stepLimit ?? DEFAULT_STEP_LIMIT, prices: opts.timed,
        };
        const compileJs = (): TimedProgram | undefined => {
          const t = compileTimed(this.image.insns, o);
          return 'run' in t ? t : undefined;
        };
        if (executor === 'wasm') {
          // Made at the first timed run (its prices come from the meter, which asks the card for its maps); the
          // JavaScript executor only when the image does not compile to WebAssembly.
          this.makeTimed = () => {
            const w = cardWasmExecutor({
              insns: this.image.insns, compile: o, memory: this.memory, maps: this.maps, profile, state: this.state, context: this.context,
              memories: opts.timed!.work.commands.length, movesStart: this.movesStart, stackBytes: STACK_BYTES,
            });
            if (w !== undefined) return { program: w, executor: 'wasm' };
            const t = compileJs();
            return t === undefined ? undefined : { program: t, executor: 'compiled' };
          };
        } else {
          this.timed = compileJs();
          if (this.timed !== undefined) this.executor = 'compiled';
        }
      }
    }
  }

  /** What runs timed packets: generated WebAssembly, generated JavaScript, or the interpreter. */
  get timedExecutor(): 'wasm' | 'compiled' | 'interpreter' {
    this.ensureTimed();
    return this.executor;
  }

  /** The timed executor made, if it is still to make. */
  private ensureTimed(): void {
    if (this.makeTimed === undefined) return;
    const made = this.makeTimed();
    this.makeTimed = undefined;
    if (made !== undefined) {
      this.timed = made.program;
      this.executor = made.executor;
    }
  }

  /** Whether packets run as compiled JavaScript (else on the interpreter). */
  get isCompiled(): boolean {
    return this.compiled !== undefined;
  }

  /** The packet placed in CTM and the entry state set (docs/nic-image.md "Entry state"). */
  private enter(packet: Uint8Array, ifindex: number, rxQueue: number): void {
    if (packet.length > CARD_MAX_PACKET) {
      throw new XdpError(`${this.opts.file}: a ${packet.length}-byte packet is longer than the card's ${CARD_MAX_PACKET}-byte buffer`);
    }
    const s = this.state;
    const end = PKT_START + packet.length;
    // Packet memory as the last packet left it is cleared where the new packet does not cover
    // it (the headroom only when the image can move the packet's start into it).
    if (this.movesStart) this.ctm.fill(0, 0, PKT_START);
    this.ctm.set(packet, PKT_START);
    if (this.dirtyEnd > end) this.ctm.fill(0, end, this.dirtyEnd);
    this.dirtyEnd = end;
    s.gprs.fill(0);
    s.lm.fill(0, 0, STACK_BYTES);
    const d = s.lmDelay;
    for (let k = 0; k < d.length; k++) d[k] = 0;
    s.csrRead = undefined;
    if (s.mul.k !== 'idle') s.mul = IDLE;
    // ifindex 1 by default, as the kernel's test run (and the host engine) give.
    setBoth(s, ENTRY_GPR.data, PKT_START);
    setBoth(s, ENTRY_GPR.len, packet.length);
    setBoth(s, ENTRY_GPR.ifindex, ifindex);
    setBoth(s, ENTRY_GPR.rxQueue, rxQueue);
    setBoth(s, ENTRY_GPR.stackWindow, STACK_TOP_WINDOW);
  }

  /** After a run: packet bytes it may have grown into are cleared before the next packet. */
  private leave(): void {
    // A packet the program grew (bpf_xdp_adjust_tail) leaves bytes past its start length to clear next time.
    const end = (this.state.gprA[ENTRY_GPR.data] as number) + (this.state.gprA[ENTRY_GPR.len] as number);
    if (end > this.dirtyEnd) this.dirtyEnd = Math.min(end, this.ctm.length);
  }

  /** Run one packet; the result's bytes are a copy (a view with `viewBytes`). */
  runPacket(packet: Uint8Array, meta: PacketMeta = {}): CardPacketResult {
    this.timed?.fusion?.toJs();
    this.enter(packet, meta.ifindex ?? 1, meta.rxQueue ?? 0);
    const s = this.state;
    const counters = this.counters;
    resetCounters(counters);
    try {
      if (this.compiled) this.compiled(s, counters, this.meter, this.context);
      else run(this.image.insns, s, this.runOptions);
      const action = s.gprA[0] as number;
      this.leave();
      return { action, actionName: nfpActionName(action), bytes: this.packetBytes(), counters };
    } catch (e) {
      if (!(e instanceof CoreError || e instanceof FirmwareError)) throw e;
      return {
        action: NfpAction.EXCEPTION_DROP, actionName: nfpActionName(NfpAction.EXCEPTION_DROP), bytes: packet.slice(),
        counters, error: e.message,
      };
    }
  }

  /**
   * Run one packet under the `timed` meter given at construction (the caller begins and
   * ends the packet's work on it). Counters are not kept; the result is reused by the
   * next run, and its bytes are a copy unless `viewBytes`.
   */
  runTimed(packet: Uint8Array): TimedPacketResult {
    const timed = this.opts.timed;
    if (timed === undefined) throw new Error('runTimed needs a card made with a timed meter');
    const s = this.state;
    if (this.makeTimed !== undefined) this.ensureTimed();
    const direct = this.timed?.runPacket;
    if (direct) {
      // The executor sets the entry state itself; the packet goes into CTM here.
      if (packet.length > CARD_MAX_PACKET) this.enter(packet, 1, 0);
      this.ctm.set(packet, PKT_START);
    } else {
      this.enter(packet, 1, 0);
    }
    timed.work.steps = 0;
    const r = this.timedResult;
    r.error = undefined;
    r.failed = undefined;
    try {
      return this.afterTimed(direct ? direct(packet.length, timed.work) : this.timed ? this.timed.run(s, timed.work, this.context) : this.image.base);
    } catch (e) {
      return this.failedTimed(e, packet);
    }
  }

  /** A timed run's end: the interpreter goes on from `resume` (−1: the run is over), then the result is read. */
  private afterTimed(resume: number): TimedPacketResult {
    const s = this.state;
    const r = this.timedResult;
    if (resume >= 0) {
      // The interpreter goes on (a step limit in reach, an entry inside a block, or no compiled image).
      resetCounters(this.counters);
      this.counters.steps = this.timed ? this.opts.timed!.work.steps : 0;
      run(this.image.insns, s, { ...this.timedOptions!, startPc: resume });
    }
    r.action = s.gprA[0] as number;
    this.leave();
    const start = s.gprA[ENTRY_GPR.data] as number;
    const len = s.gprA[ENTRY_GPR.len] as number;
    if (start + len > this.ctm.length) this.packetBytes(); // outside the buffer: its error
    r.length = len;
    return r;
  }

  /** A timed run that threw: an executor's or the firmware's error is the packet's exception drop; anything else is thrown on. */
  private failedTimed(e: unknown, packet: Uint8Array): TimedPacketResult {
    if (!(e instanceof CoreError || e instanceof FirmwareError)) throw e;
    const r = this.timedResult;
    r.action = NfpAction.EXCEPTION_DROP;
    r.failed = packet.slice();
    r.length = packet.length;
    r.error = e.message;
    return r;
  }

  /**
   * The card's side of a packet path (nic-sim/replay/packet-path.ts), which runs whole
   * packets through the card's code itself: there when timed packets run as WebAssembly
   * that sets the entry state itself, undefined otherwise.
   */
  fusion(): CardFusion | undefined {
    this.ensureTimed();
    const f = this.timed?.fusion;
    const work = this.opts.timed?.work;
    if (f === undefined || work === undefined || this.executor !== 'wasm') return undefined;
    const r = this.timedResult;
    const gprs = this.memory.registers.gprs;
    const reset = (): void => {
      r.error = undefined;
      r.failed = undefined;
    };
    return {
      run: f.run, memory: this.memory, packetStart: PKT_START, gpr: ENTRY_GPR,
      begin: () => f.begin(work),
      ended: () => {
        reset();
        r.action = gprs[0]!;
        r.length = gprs[ENTRY_GPR.len]!;
        return r;
      },
      finish: (resume, packet) => {
        f.toJs();
        f.takeWork(work);
        reset();
        try {
          return this.afterTimed(resume);
        } catch (e) {
          return this.failedTimed(e, packet);
        }
      },
      failed: (e, packet) => {
        f.toJs();
        f.takeWork(work);
        reset();
        return this.failedTimed(e, packet);
      },
    };
  }

  /** The compiled blocks' share of the hot spots added to the timed meter's (the counts behind them cleared). */
  foldHotSpots(): void {
    const w = this.opts.timed?.work;
    if (w && this.timed) this.timed.foldHotSpots(w.pcCycles, w.pcSleep);
  }

  /** The eBPF main stack (LM 0 … 511) and the packet as they are now (a validator's view, from `onStep`). */
  inspect(): { readonly stack: Uint8Array; readonly stackTop: number; readonly data: number; packet(): Uint8Array } {
    return { stack: this.state.lm.subarray(0, STACK_BYTES), stackTop: STACK_BYTES, data: this.state.gprA[ENTRY_GPR.data] as number, packet: () => this.packetBytes() };
  }

  private packetBytes(): Uint8Array {
    const start = this.state.gprA[ENTRY_GPR.data] as number;
    const len = this.state.gprA[ENTRY_GPR.len] as number;
    if (start + len > this.ctm.length) throw new XdpError(`${this.opts.file}: the image left a packet of ${len} bytes at CTM ${start}, outside the packet buffer`);
    return this.opts.viewBytes ? this.ctm.subarray(start, start + len) : this.ctm.slice(start, start + len);
  }
}

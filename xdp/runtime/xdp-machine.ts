/**
 * One XDP program ready to process packets on the host CPU: the object's maps
 * created (with the kernel's semantics), every XDP program of the object
 * prepared for the chosen engine (tail calls may land in any of them), the
 * helper table, and the packet buffer. `run` takes one packet through it and
 * says what became of it. A machine is a value: two machines share nothing.
 */
import { createMap } from '../maps/create-map.js';
import type { BpfMap, MapEnv } from '../maps/bpf-map.js';
import type { BpfObject, Program } from '../object/bpf-object.js';
import { DEFAULT_BUDGET, makeRunner, type EngineName, type Runner } from './engine.js';
import { prepareProgram, type MapResolver } from './exec-program.js';
import type { FibTable } from './helpers/fib-table.js';
import { seededRandom, type HelperEnv, type RedirectTarget, type TraceLine } from './helpers/helper-env.js';
import { XDP_ACTION_NAMES, XdpAction, createHelpers } from './helpers/xdp-helpers.js';
import { Memory } from './memory.js';
import { ExecFault, MAX_BPF_STACK, createVm, frameTop, type Vm } from './vm.js';
import { buffLength, createXdpBuff, loadPacket, packetData, packetTooLong, XDP_MAX_PACKET, type XdpBuff } from './xdp-buff.js';

export interface XdpMachineOptions {
  readonly engine: EngineName;
  /** Possible CPUs (per-CPU maps keep one value per CPU). */
  readonly cpus?: number;
  /** Seed of get_prandom_u32. */
  readonly seed?: number;
  /** The source get_prandom_u32 draws from instead of the seeded one (a validator shares one with the card). */
  readonly random?: () => number;
  readonly fib?: FibTable;
  /** Instructions allowed per packet before the run is stopped. */
  readonly budget?: number;
  /** Called before each instruction with its slot and registers (the `interp` engine only: a validator's trace). */
  readonly onInsn?: (slot: number, regs: Int32Array) => void;
}

export interface PacketMeta {
  readonly ingressIfindex?: number;
  readonly rxQueueIndex?: number;
  readonly cpu?: number;
  /** Virtual time for ktime_get_*: the packet's capture time, seconds and nanoseconds. */
  readonly tsSec?: number;
  readonly tsNsec?: number;
}

export type ActionName = (typeof XDP_ACTION_NAMES)[number];

export interface PacketResult {
  /** XDP action: what the program returned, or XDP_ABORTED when the run failed. */
  readonly action: number;
  readonly actionName: ActionName;
  /** Length of the packet as the program left it (with its fragments). */
  readonly length: number;
  /** The packet as the program left it (data .. data_end, then any fragments). A machine's result is valid until its next run. */
  bytes(): Uint8Array;
  readonly redirect?: RedirectTarget;
  /** Why the packet was aborted, when the program did not simply return XDP_ABORTED. */
  readonly error?: string;
  /** The raw r0 the program returned. */
  readonly retval?: number;
}

/** The one result a machine hands out, refilled by every run (no allocation per packet). */
class MachineResult implements PacketResult {
  action = 0;
  actionName: ActionName = 'XDP_ABORTED';
  redirect: RedirectTarget | undefined = undefined;
  error: string | undefined = undefined;
  retval: number | undefined = undefined;
  constructor(private readonly xdp: XdpBuff) {}
  get length(): number {
    return buffLength(this.xdp);
  }
  bytes(): Uint8Array {
    return packetData(this.xdp);
  }
  set(action: number, retval: number | undefined, error?: string, redirect?: RedirectTarget): this {
    this.action = action;
    this.actionName = XDP_ACTION_NAMES[action]!;
    this.retval = retval;
    this.error = error;
    this.redirect = redirect;
    return this;
  }
}

export class XdpMachine {
  readonly maps: BpfMap[] = [];
  readonly trace: TraceLine[] = [];
  private readonly vm: Vm;
  private readonly xdp: XdpBuff;
  private readonly env: HelperEnv;
  private readonly runners: Runner[];
  private readonly entry: number;
  private readonly result: MachineResult;

  constructor(readonly object: BpfObject, program: Program, readonly options: XdpMachineOptions) {
    const memory = new Memory();
    const mapEnv: MapEnv = { memory, cpus: options.cpus ?? 1, maps: this.maps };
    for (const def of object.maps) this.maps.push(createMap(def, mapEnv));
    const programs = object.programs;
    const random = options.random ?? seededRandom(options.seed ?? 0);
    this.env = {
      maps: this.maps, cpu: 0, packet: 0, nowSec: 0, nowNsec: 0, random, redirect: undefined, trace: this.trace,
      fib: options.fib, tailCalls: 0,
      programIndex: (name) => {
        const i = programs.findIndex((p) => p.name === name);
        return i < 0 ? undefined : i;
      },
    };
    this.vm = createVm(memory, createHelpers(this.env), options.budget ?? DEFAULT_BUDGET);
    this.vm.onInsn = options.onInsn;
    this.xdp = createXdpBuff(memory);
    this.vm.xdp = this.xdp;
    this.result = new MachineResult(this.xdp);
    const resolver: MapResolver = {
      handle: (i) => this.mapAt(i).handle.id,
      value: (i) => {
        const v = this.mapAt(i).lookup(new Uint8Array(4), 0);
        if (!v) throw new ExecFault(`map ${i} has no value to point at`);
        return { region: v.region.id, offset: v.offset };
      },
    };
    const inlineArray = (i: number) => this.mapAt(i).inlineArray?.();
    this.runners = programs.map((p) => makeRunner(prepareProgram(p, resolver), options.engine, { inlineArray }));
    this.entry = programs.indexOf(program);
    if (this.entry < 0) throw new Error('the program is not one of the object\'s programs');
  }

  private mapAt(i: number): BpfMap {
    const m = this.maps[i];
    if (!m) throw new ExecFault(`lddw refers to map ${i}, but the object has ${this.maps.length}`);
    return m;
  }

  /**
   * The main program's stack frame (MAX_BPF_STACK bytes below its r10) and the packet as it is now:
   * what a validator compares with the card's at instruction boundaries, from an `onInsn` hook.
   */
  inspect(): { readonly stack: Uint8Array; readonly stackTop: number; readonly data: number; packet(): Uint8Array } {
    const top = frameTop(0);
    return { stack: this.vm.stack.bytes.subarray(top - MAX_BPF_STACK, top), stackTop: top, data: this.xdp.data, packet: () => packetData(this.xdp) };
  }

  /** Run one packet. `index` labels trace lines and events. The result is valid until the next run. */
  run(packet: Uint8Array, index: number, meta?: PacketMeta): PacketResult {
    const result = this.result;
    if (packet.length > XDP_MAX_PACKET) {
      loadPacket(this.xdp, packet.subarray(0, 0));
      return result.set(XdpAction.ABORTED, undefined, packetTooLong(packet.length));
    }
    const env = this.env;
    env.cpu = meta?.cpu ?? 0;
    env.packet = index;
    if (meta?.tsSec !== undefined) {
      env.nowSec = meta.tsSec;
      env.nowNsec = meta.tsNsec ?? 0;
    }
    env.redirect = undefined;
    env.tailCalls = 0;
    loadPacket(this.xdp, packet, meta?.ingressIfindex ?? 1, meta?.rxQueueIndex ?? 0);
    const vm = this.vm;
    let current = this.entry;
    try {
      for (;;) {
        // Only r1 (the context) is defined on entry. The compiled engine starts every register of its own;
        // the interpreter works in vm.regs, so they are cleared for it.
        if (this.options.engine === 'interp') vm.regs.fill(0);
        vm.regs[2] = 0;
        vm.regs[3] = this.xdp.ctx.id;
        vm.tailCall = undefined;
        this.runners[current]!(vm);
        if (vm.tailCall === undefined) break;
        current = vm.tailCall;
      }
    } catch (e) {
      if (!(e instanceof ExecFault)) throw e;
      return result.set(XdpAction.ABORTED, undefined, e.message);
    }
    const retval = vm.regs[0]! >>> 0;
    if (vm.regs[1] !== 0 || retval > XdpAction.REDIRECT) return result.set(XdpAction.ABORTED, retval, `invalid XDP action ${retval}`);
    if (retval === XdpAction.REDIRECT) {
      return env.redirect
        ? result.set(retval, retval, undefined, env.redirect)
        : result.set(XdpAction.ABORTED, retval, 'XDP_REDIRECT without a redirect target');
    }
    return result.set(retval, retval);
  }
}

/**
 * What the helpers of one host machine share: the maps, the packet being
 * processed, the redirect decision, the clock and random generator (both
 * deterministic), the CPU the packet runs on, and the sinks for trace_printk
 * lines and perf/ringbuf events. Plus the small readers helpers use to take
 * arguments out of registers and memory.
 */
import type { BpfMap } from '../../maps/bpf-map.js';
import { MemoryFault, RegionKind } from '../memory.js';
import type { Vm } from '../vm.js';
import type { FibTable } from './fib-table.js';

export type RedirectTarget =
  | { readonly kind: 'ifindex'; readonly ifindex: number }
  | { readonly kind: 'map'; readonly map: string; readonly mapType: number; readonly key: number; readonly flags: number };

export interface TraceLine {
  readonly packet: number;
  readonly cpu: number;
  readonly text: string;
}

export interface HelperEnv {
  readonly maps: readonly BpfMap[];
  /** CPU of the packet being processed (per-CPU maps, get_smp_processor_id). */
  cpu: number;
  /** Index of the packet being processed, for traces and events. */
  packet: number;
  /** The virtual clock ktime_get_* read (the replay sets it to each packet's capture time): seconds and nanoseconds. */
  nowSec: number;
  nowNsec: number;
  /** Deterministic 32-bit generator for get_prandom_u32. */
  random(): number;
  redirect: RedirectTarget | undefined;
  readonly trace: TraceLine[];
  readonly fib: FibTable | undefined;
  /** Program index for a PROG_ARRAY slot's program name (tail calls). */
  programIndex(name: string): number | undefined;
  /** Tail calls taken in the current run. */
  tailCalls: number;
}

/** The virtual clock in nanoseconds (made only when a program asks for the time). */
export const nowNs = (env: HelperEnv): bigint => BigInt(env.nowSec) * 1_000_000_000n + BigInt(env.nowNsec);

/** Low and high word of argument register n (1..5). */
export const argLo = (vm: Vm, n: number): number => vm.regs[2 * n]!;
export const argHi = (vm: Vm, n: number): number => vm.regs[2 * n + 1]!;
/** Argument n as a signed number (exact within ±2^53). */
export const argNum = (vm: Vm, n: number): number => argHi(vm, n) * 0x100000000 + (argLo(vm, n) >>> 0);
export const argU32 = (vm: Vm, n: number): number => argLo(vm, n) >>> 0;

export function ret(vm: Vm, value: number): void {
  vm.regs[0] = value | 0;
  vm.regs[1] = value < 0 ? -1 : Math.floor(value / 0x100000000) | 0;
}

/** Return a pointer (region, offset) or NULL. */
export function retPtr(vm: Vm, region: number, offset: number): void {
  vm.regs[0] = offset;
  vm.regs[1] = region;
}

/** A copy of `len` bytes the pointer in argument n points at. */
export function argBytes(vm: Vm, n: number, len: number): Uint8Array {
  const at = argLo(vm, n);
  const r = vm.memory.resolve(argHi(vm, n), at, len, false);
  if (r.kind === RegionKind.CTX) throw new MemoryFault('helper argument points into the context');
  return r.bytes.slice(at, at + len);
}

/** Write `bytes` where the pointer in argument n points. */
export function writeArg(vm: Vm, n: number, bytes: Uint8Array): void {
  const at = argLo(vm, n);
  const r = vm.memory.resolve(argHi(vm, n), at, bytes.length, true);
  r.bytes.set(bytes, at);
}

/** The map a map-pointer argument names. */
export function argMap(vm: Vm, env: HelperEnv, n: number): BpfMap {
  const r = vm.memory.regions[argHi(vm, n)];
  if (r === undefined || r.kind !== RegionKind.MAP_HANDLE || r.map === undefined || argLo(vm, n) !== 0) {
    throw new MemoryFault(`argument ${n} is not a map pointer`);
  }
  const map = env.maps[r.map];
  if (!map) throw new MemoryFault(`argument ${n} names map ${r.map}, which does not exist`);
  return map;
}

/** A splitmix-style 32-bit generator from a seed: the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

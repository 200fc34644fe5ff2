/**
 * The BPF helpers the kernel allows XDP programs and this host engine
 * provides, as a table from helper id (HelperId, xdp/helpers/helper-registry.ts)
 * to an implementation over the Vm's registers and memory. Semantics and return
 * codes follow the kernel's implementations (kernel/bpf/helpers.c,
 * net/core/filter.c, kernel/bpf/ringbuf.c, kernel/trace/bpf_trace.c); any other
 * helper id is refused by the engines with its name.
 */
import {
  BPF_F_BROADCAST, HelperId, REDIRECT_MAP_ACTION_MASK, helperSpec,
} from '../../helpers/helper-registry.js';
import { Errno, type BpfMap, type ValueRef } from '../../maps/bpf-map.js';
import { MAP_TYPE } from '../../maps/map-types.js';
import { MemoryFault, RegionKind } from '../memory.js';
import { MAX_TAIL_CALL_CNT, type HelperFn, type Vm } from '../vm.js';
import { adjustHead, adjustMeta, adjustTail, buffLength, copyPacket } from '../xdp-buff.js';
import { fibLookup, FibResult } from './fib-table.js';
import {
  argBytes, argHi, argLo, argMap, argNum, argU32, nowNs, ret, retPtr, writeArg, type HelperEnv,
} from './helper-env.js';
import { formatTracePrintk } from './trace-printk.js';

export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
export const XDP_ACTION_NAMES = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'] as const;

const BPF_F_CURRENT_CPU = 0xffffffff;
/** What bpf_redirect_map accepts in its flags (above it: XDP_ABORTED). */
const REDIRECT_MAP_FLAGS = helperSpec(HelperId.REDIRECT_MAP)!.allowedFlags!;
const BPF_FIB_LOOKUP_SKIP_NEIGH = 1 << 4;

/** Map operations some map types add to the BpfMap contract. */
interface RingbufOps {
  reserve(size: number, flags: number): ValueRef | undefined;
  commit(ref: ValueRef, discard: boolean): void;
  output(data: Uint8Array, flags: number): number;
}
interface PerfOps {
  output(index: number, cpu: number, data: Uint8Array): number;
}
interface ProgArrayOps {
  program(index: number): string | undefined;
}

function ops<T>(map: BpfMap, method: keyof T, helper: string): T {
  if (typeof (map as unknown as Record<string, unknown>)[method as string] !== 'function') {
    throw new MemoryFault(`${helper} on map '${map.def.name}', whose type does not support it`);
  }
  return map as unknown as T;
}

const keyOf = (vm: Vm, map: BpfMap, n: number) => argBytes(vm, n, map.def.keySize);

type Factory = (env: HelperEnv) => HelperFn;

const HELPERS: Readonly<Record<number, Factory>> = {
  [HelperId.MAP_LOOKUP_ELEM]: (env) => (vm) => {
    const map = argMap(vm, env, 1);
    const at = argLo(vm, 2);
    const key = vm.memory.resolve(argHi(vm, 2), at, map.def.keySize, false);
    if (key.kind === RegionKind.CTX) throw new MemoryFault('map key points into the context');
    // The value pointer lands straight in r0 (offset, region); a miss is NULL.
    if (!map.lookupAt(key.bytes, at, env.cpu, vm.regs)) retPtr(vm, 0, 0);
  },
  [HelperId.MAP_UPDATE_ELEM]: (env) => (vm) => {
    const map = argMap(vm, env, 1);
    ret(vm, map.update(keyOf(vm, map, 2), argBytes(vm, 3, map.def.valueSize), argNum(vm, 4), env.cpu));
  },
  [HelperId.MAP_DELETE_ELEM]: (env) => (vm) => {
    const map = argMap(vm, env, 1);
    ret(vm, map.delete(keyOf(vm, map, 2), env.cpu));
  },
  [HelperId.KTIME_GET_NS]: (env) => (vm) => retBig(vm, nowNs(env)),
  [HelperId.TRACE_PRINTK]: (env) => (vm) => {
    const size = argU32(vm, 2);
    const fmt = argBytes(vm, 1, size);
    const text = formatTracePrintk(vm, fmt);
    env.trace.push({ packet: env.packet, cpu: env.cpu, text });
    ret(vm, text.length + 1);
  },
  [HelperId.GET_PRANDOM_U32]: (env) => (vm) => {
    vm.regs[0] = env.random() | 0;
    vm.regs[1] = 0;
  },
  [HelperId.GET_SMP_PROCESSOR_ID]: (env) => (vm) => ret(vm, env.cpu),
  [HelperId.TAIL_CALL]: (env) => (vm) => {
    const map = argMap(vm, env, 2);
    if (map.def.type !== MAP_TYPE.PROG_ARRAY) throw new MemoryFault(`bpf_tail_call on map '${map.def.name}', which is not a PROG_ARRAY`);
    const index = argU32(vm, 3);
    const name = index < map.def.maxEntries ? ops<ProgArrayOps>(map, 'program', 'bpf_tail_call').program(index) : undefined;
    const target = name === undefined ? undefined : env.programIndex(name);
    if (target === undefined || env.tailCalls >= MAX_TAIL_CALL_CNT) {
      ret(vm, -Errno.ENOENT); // the call falls through; the verifier forbids reading r0 here
      return;
    }
    env.tailCalls++;
    vm.tailCall = target;
  },
  [HelperId.REDIRECT]: (env) => (vm) => {
    if (argNum(vm, 2) !== 0) {
      ret(vm, XdpAction.ABORTED);
      return;
    }
    env.redirect = { kind: 'ifindex', ifindex: argU32(vm, 1) };
    ret(vm, XdpAction.REDIRECT);
  },
  [HelperId.PERF_EVENT_OUTPUT]: (env) => (vm) => {
    const map = argMap(vm, env, 2);
    const flagsLo = argU32(vm, 3);
    const ctxLen = argHi(vm, 3) & 0xfffff;
    const data = argBytes(vm, 4, argU32(vm, 5));
    let sample = data;
    if (ctxLen > 0) {
      const xdp = vm.xdp;
      if (!xdp || ctxLen > buffLength(xdp)) {
        ret(vm, -Errno.EFAULT);
        return;
      }
      sample = new Uint8Array(data.length + ctxLen);
      sample.set(data);
      copyPacket(xdp, 0, sample, data.length, ctxLen, false);
    }
    const index = flagsLo === BPF_F_CURRENT_CPU ? env.cpu : flagsLo;
    ret(vm, ops<PerfOps>(map, 'output', 'bpf_perf_event_output').output(index, env.cpu, sample));
  },
  [HelperId.CSUM_DIFF]: () => (vm) => {
    const fromSize = argU32(vm, 2);
    const toSize = argU32(vm, 4);
    if (((fromSize | toSize) & 3) !== 0 || fromSize + toSize > 512) {
      ret(vm, -Errno.EINVAL);
      return;
    }
    const from = fromSize > 0 ? argBytes(vm, 1, fromSize) : new Uint8Array(0);
    const to = toSize > 0 ? argBytes(vm, 3, toSize) : new Uint8Array(0);
    let sum = argU32(vm, 5);
    const fv = new DataView(from.buffer);
    const tv = new DataView(to.buffer);
    for (let i = 0; i < fromSize; i += 4) sum += ~fv.getUint32(i, true) >>> 0;
    for (let i = 0; i < toSize; i += 4) sum += tv.getUint32(i, true);
    while (sum > 0xffffffff) sum = (sum % 0x100000000) + Math.floor(sum / 0x100000000);
    // Folded to 16 bits (not complemented), as bpf_csum_diff returns it on every architecture since
    // the kernel made it consistent (csum_from32to16); the test checks this against the running kernel.
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    vm.regs[0] = sum;
    vm.regs[1] = 0;
  },
  [HelperId.GET_NUMA_NODE_ID]: () => (vm) => ret(vm, 0),
  [HelperId.XDP_ADJUST_HEAD]: () => (vm) => ret(vm, adjustHead(xdpOf(vm), argLo(vm, 2))),
  [HelperId.REDIRECT_MAP]: (env) => (vm) => {
    const map = argMap(vm, env, 1);
    const key = argU32(vm, 2);
    const flags = argNum(vm, 3);
    const redirectable = [MAP_TYPE.DEVMAP, MAP_TYPE.DEVMAP_HASH, MAP_TYPE.CPUMAP, MAP_TYPE.XSKMAP] as readonly number[];
    if (!redirectable.includes(map.def.type)) throw new MemoryFault(`bpf_redirect_map on map '${map.def.name}', which is not a DEVMAP, DEVMAP_HASH, CPUMAP or XSKMAP`);
    if (flags < 0 || flags > REDIRECT_MAP_FLAGS) {
      ret(vm, XdpAction.ABORTED);
      return;
    }
    const keyBytes = new Uint8Array(4);
    new DataView(keyBytes.buffer).setUint32(0, key, true);
    const broadcast = (flags & BPF_F_BROADCAST) !== 0;
    if (!broadcast && map.read(keyBytes) === undefined) {
      ret(vm, flags & REDIRECT_MAP_ACTION_MASK);
      return;
    }
    env.redirect = { kind: 'map', map: map.def.name, mapType: map.def.type, key, flags };
    ret(vm, XdpAction.REDIRECT);
  },
  [HelperId.XDP_ADJUST_META]: () => (vm) => ret(vm, adjustMeta(xdpOf(vm), argLo(vm, 2))),
  [HelperId.XDP_ADJUST_TAIL]: () => (vm) => ret(vm, adjustTail(xdpOf(vm), argLo(vm, 2))),
  [HelperId.FIB_LOOKUP]: (env) => (vm) => ret(vm, fib(vm, env)),
  [HelperId.MAP_PUSH_ELEM]: (env) => (vm) => {
    const map = argMap(vm, env, 1);
    ret(vm, map.push(argBytes(vm, 2, map.def.valueSize), argNum(vm, 3)));
  },
  [HelperId.MAP_POP_ELEM]: (env) => (vm) => popPeek(vm, env, false),
  [HelperId.MAP_PEEK_ELEM]: (env) => (vm) => popPeek(vm, env, true),
  [HelperId.SPIN_LOCK]: () => (vm) => spin(vm, true),
  [HelperId.SPIN_UNLOCK]: () => (vm) => spin(vm, false),
  [HelperId.KTIME_GET_BOOT_NS]: (env) => (vm) => retBig(vm, nowNs(env)),
  [HelperId.RINGBUF_OUTPUT]: (env) => (vm) => {
    const map = argMap(vm, env, 1);
    ret(vm, ops<RingbufOps>(map, 'output', 'bpf_ringbuf_output').output(argBytes(vm, 2, argU32(vm, 3)), argNum(vm, 4)));
  },
  [HelperId.RINGBUF_RESERVE]: (env) => (vm) => {
    const map = argMap(vm, env, 1);
    const ref = ops<RingbufOps>(map, 'reserve', 'bpf_ringbuf_reserve').reserve(argU32(vm, 2), argNum(vm, 3));
    if (ref) retPtr(vm, ref.region.id, ref.offset);
    else retPtr(vm, 0, 0);
  },
  [HelperId.RINGBUF_SUBMIT]: (env) => (vm) => commit(vm, env, false),
  [HelperId.RINGBUF_DISCARD]: (env) => (vm) => commit(vm, env, true),
  [HelperId.RINGBUF_QUERY]: () => (vm) => ret(vm, 0),
  [HelperId.KTIME_GET_COARSE_NS]: (env) => (vm) => retBig(vm, nowNs(env)),
  [HelperId.XDP_GET_BUFF_LEN]: () => (vm) => ret(vm, buffLength(xdpOf(vm))),
  [HelperId.XDP_LOAD_BYTES]: () => (vm) => ret(vm, xdpBytes(vm, false)),
  [HelperId.XDP_STORE_BYTES]: () => (vm) => ret(vm, xdpBytes(vm, true)),
  [HelperId.KTIME_GET_TAI_NS]: (env) => (vm) => retBig(vm, nowNs(env)),
};

/**
 * bpf_xdp_load_bytes / bpf_xdp_store_bytes(ctx, offset, buf, len): offset counts from data, over
 * the linear part and then the fragments (bpf_xdp_pointer's checks: -EFAULT past 0xffff, -EINVAL
 * past the packet's end).
 */
function xdpBytes(vm: Vm, store: boolean): number {
  const xdp = xdpOf(vm);
  const off = argU32(vm, 2);
  const len = argU32(vm, 4);
  if (off > 0xffff || len > 0xffff) return -Errno.EFAULT;
  if (off + len > buffLength(xdp)) return -Errno.EINVAL;
  const at = argLo(vm, 3);
  copyPacket(xdp, off, vm.memory.resolve(argHi(vm, 3), at, len, !store).bytes, at, len, store);
  return 0;
}

function retBig(vm: Vm, v: bigint): void {
  vm.regs[0] = Number(BigInt.asIntN(32, v));
  vm.regs[1] = Number(BigInt.asIntN(32, v >> 32n));
}

function xdpOf(vm: Vm) {
  if (!vm.xdp) throw new MemoryFault('an XDP helper called outside an XDP run');
  return vm.xdp;
}

function popPeek(vm: Vm, env: HelperEnv, peek: boolean): void {
  const map = argMap(vm, env, 1);
  const v = map.pop(peek);
  if (typeof v === 'number') {
    ret(vm, v);
    return;
  }
  writeArg(vm, 2, v);
  ret(vm, 0);
}

function commit(vm: Vm, env: HelperEnv, discard: boolean): void {
  const region = vm.memory.regions[argHi(vm, 1)];
  if (!region || region.kind !== RegionKind.RINGBUF || region.map === undefined) {
    throw new MemoryFault(`bpf_ringbuf_${discard ? 'discard' : 'submit'} of a pointer that bpf_ringbuf_reserve did not return`);
  }
  const map = env.maps[region.map]!;
  ops<RingbufOps>(map, 'commit', 'bpf_ringbuf_submit').commit({ region, offset: argLo(vm, 1) }, discard);
  ret(vm, 0);
}

function spin(vm: Vm, lock: boolean): void {
  const at = argLo(vm, 1);
  const r = vm.memory.resolve(argHi(vm, 1), at, 4, true);
  const held = r.view.getUint32(at, true) !== 0;
  if (lock && held) throw new MemoryFault('bpf_spin_lock on a lock this program already holds (deadlock)');
  if (!lock && !held) throw new MemoryFault('bpf_spin_unlock of a lock that is not held');
  r.view.setUint32(at, lock ? 1 : 0, true);
  ret(vm, 0);
}

/** bpf_fib_lookup(ctx, struct bpf_fib_lookup *params, int plen, u32 flags). */
function fib(vm: Vm, env: HelperEnv): number {
  const plen = argU32(vm, 3);
  if (plen < 64) return -Errno.EINVAL;
  const flags = argU32(vm, 4);
  const params = argBytes(vm, 2, 64);
  const family = params[0];
  if (family !== 2 && family !== 10) return -Errno.EAFNOSUPPORT;
  if (!env.fib) return FibResult.NOT_FWDED;
  const v4 = family === 2;
  const dst = v4 ? params.subarray(32, 36) : params.subarray(32, 48);
  const answer = fibLookup(env.fib, v4 ? 4 : 6, dst, (flags & BPF_FIB_LOOKUP_SKIP_NEIGH) !== 0);
  const view = new DataView(params.buffer);
  if (answer.ifindex !== undefined) view.setUint32(8, answer.ifindex, true);
  if (answer.mtu !== undefined) view.setUint16(6, answer.mtu, true);
  if (answer.smac) params.set(answer.smac, 52);
  if (answer.dmac) params.set(answer.dmac, 58);
  if (answer.result === FibResult.SUCCESS || answer.result === FibResult.NO_NEIGH) writeArg(vm, 2, params);
  return answer.result;
}

/** The helper table for one machine: index = helper id. */
export function createHelpers(env: HelperEnv): (HelperFn | undefined)[] {
  const table: (HelperFn | undefined)[] = [];
  for (const [id, factory] of Object.entries(HELPERS)) table[Number(id)] = factory(env);
  return table;
}

/** Ids of the helpers this engine provides. */
export const PROVIDED_HELPERS: readonly number[] = Object.keys(HELPERS).map(Number);

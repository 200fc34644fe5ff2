/**
 * Calls and returns: helper calls checked against their prototypes
 * (check_helper_call, check_func_arg: map pointers, keys and values, memory
 * with sizes, ring-buffer references, packet invalidation, return types),
 * bpf-to-bpf calls with their frames, exits (r0, leaked references), and the
 * combined stack of a call chain.
 */
import type { Insn } from '../../xdp/isa/insn.js';
import type { InsnKind } from '../../xdp/isa/kind.js';
import { HelperId, MAP_ONLY_FOR, helperSpec, type ArgType } from '../../xdp/helpers/helper-registry.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import type { MapDef } from '../../xdp/object/bpf-object.js';
import { checkCtxUnmodified, checkHelperMem } from './mem-checks.js';
import {
  NOT_INIT, isPacket, isPointer, pointerReg, scalarReg, typeName, unknownReg, type RegState,
} from './reg-state.js';
import {
  constValue, isConst, scalarFromLoad, 
} from './scalar.js';
import { MAX_BPF_STACK, Slot, curFrame, mapAllRegs, newFrame, type VerifierState } from './state.js';
import { markWholeFrame, newMarks } from './marks.js';
import type { Walk } from './verifier.js';
import { VerifyError } from './verify-error.js';
import { kfuncCall } from './kfunc-call.js';

const MAX_CALL_FRAMES = 8;
/** What a memory argument may point at here, and how the kernel lists what it expected. */
const MEM_ARG_TYPES: readonly string[] = ['fp', 'pkt', 'pkt_meta', 'map_value', 'ringbuf_mem'];
const MEM_ARG_EXPECTED = 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_';

export function call(w: Walk, pc: number, insn: Insn, k: Extract<InsnKind, { k: 'call' }>, st: VerifierState): number {
  const f = curFrame(st);
  if (k.target === 'local') {
    if (st.frames.length >= MAX_CALL_FRAMES) throw new VerifyError(`the call stack of ${st.frames.length + 1} frames is too deep !`, pc);
    const callee = newFrame(st.frames.length, pc + 1);
    for (let r = 1; r <= 5; r++) callee.regs[r] = f.regs[r]!;
    st.frames.push(callee);
    markWholeFrame((st.written ??= newMarks()), callee.frameno);
    return pc + insn.imm + 1;
  }
  if (k.target === 'kfunc') return kfuncCall(w, pc, insn, st);
  if (k.target !== 'helper') throw new VerifyError('unknown opcode 8d', pc);
  const id = insn.imm;
  const spec = helperSpec(id);
  const proto = spec?.proto;
  if (!proto || (proto.perfmon && !w.privileged)) {
    if (!spec) throw new VerifyError(`invalid func unknown#${id}`, pc);
    if (proto || !spec.xdp) throw new VerifyError(`program of this type cannot use helper ${spec.name}#${id}`, pc);
    throw new VerifyError(`helper ${spec.name}#${id}: the kernel allows it in XDP programs, but this verifier does not model it`, pc);
  }
  const name = spec!.name;
  if (proto.gplOnly && !w.gpl) throw new VerifyError(`cannot call GPL-restricted function from non-GPL compatible program`, pc);
  const ctx = w.memContext(st, pc);
  let map: MapDef | undefined;
  let mem: RegState | undefined;
  let memReg = 0;
  let memWrite = false;
  let ringbuf: RegState | undefined;
  let allocSize = 0;
  let constantKey: bigint | undefined;
  proto.args.forEach((arg: ArgType, i) => {
    const r = i + 1;
    const reg = f.regs[r]!;
    if (reg.type === 'not_init') throw new VerifyError(`R${r} !read_ok`, pc);
    const expect = (ok: boolean, expected: string) => {
      if (!ok) throw new VerifyError(`R${r} type=${typeName(reg.type)} expected=${expected}`, pc);
    };
    switch (arg) {
      case 'ctx':
        expect(reg.type === 'ctx', 'ctx');
        checkCtxUnmodified(ctx, r, reg);
        break;
      case 'map': {
        expect(reg.type === 'map_ptr', 'map_ptr');
        map = w.maps[reg.map]!;
        const allowed = proto.mapTypes;
        const only = MAP_ONLY_FOR[map.type];
        if (id === HelperId.TAIL_CALL && map.type !== MAP_TYPE.PROG_ARRAY) throw new VerifyError('expected prog array map for tail call', pc);
        if ((allowed && !allowed.includes(map.type)) || (only && !only.includes(id))) {
          throw new VerifyError(`cannot pass map_type ${map.type} into func ${name}#${id}`, pc);
        }
        break;
      }
      case 'key':
        checkHelperMem(ctx, r, reg, map!.keySize, false);
        if (map!.type === MAP_TYPE.ARRAY || map!.type === MAP_TYPE.PERCPU_ARRAY) {
          const known = stackConstant(w, st, reg, map!.keySize);
          constantKey = known?.value;
          // A lookup that cannot fail relies on the key's exact value (get_constant_map_key).
          if (known?.slot !== undefined) w.needPrecise(st, [], { frame: reg.frame, k: known.slot });
        }
        break;
      case 'value':
        checkHelperMem(ctx, r, reg, map!.valueSize, false);
        break;
      case 'uninit_value':
        checkHelperMem(ctx, r, reg, map!.valueSize, true);
        break;
      case 'fixed_mem':
        expect(MEM_ARG_TYPES.includes(reg.type), MEM_ARG_EXPECTED);
        checkHelperMem(ctx, r, reg, proto.fixedSizes![i]!, false);
        break;
      case 'mem':
      case 'mem_or_null':
      case 'uninit_mem':
        if (arg === 'mem_or_null' && reg.type === 'scalar' && isConst(reg.s) && constValue(reg.s) === 0n) {
          mem = undefined;
          break;
        }
        expect(MEM_ARG_TYPES.includes(reg.type), MEM_ARG_EXPECTED);
        mem = reg;
        memReg = r;
        memWrite = arg === 'uninit_mem';
        break;
      case 'size':
      case 'size_or_zero': {
        expect(reg.type === 'scalar', 'scalar');
        if (reg.s.smin < 0n) throw new VerifyError(`R${r} min value is negative, either use unsigned or 'var &= const'`, pc);
        if (arg === 'size' && reg.s.umin === 0n) throw new VerifyError(`R${r} invalid zero-sized read: u64=[0,${reg.s.umax}]`, pc);
        if (reg.s.umax >= 1n << 29n) throw new VerifyError(`R${r} unbounded memory access, use 'var &= const' or 'if (var < const)'`, pc);
        if (mem) checkHelperMem(ctx, memReg, mem, Number(reg.s.umax), memWrite);
        mem = undefined;
        w.needPrecise(st, [r]);
        break;
      }
      case 'alloc_size':
        expect(reg.type === 'scalar', 'scalar');
        if (!isConst(reg.s)) throw new VerifyError(`R${r} is not a known constant'`, pc);
        allocSize = Number(constValue(reg.s));
        w.needPrecise(st, [r]);
        break;
      case 'ringbuf_mem':
        expect(reg.type === 'ringbuf_mem', 'ringbuf_mem');
        if (reg.off !== 0 || !isConst(reg.s) || constValue(reg.s) !== 0n) throw new VerifyError(`R${r} must have zero offset when passed to release func`, pc);
        ringbuf = reg;
        break;
      case 'lock':
        expect(reg.type === 'map_value', 'map_value');
        break;
      case 'anything':
        break;
    }
  });
  // record_func_key: a tail call's index known to be in the PROG_ARRAY is remembered (so the kernel can
  // patch a direct jump), which makes it precise.
  if (id === HelperId.TAIL_CALL) {
    const index = f.regs[3]!;
    if (index.type === 'scalar' && isConst(index.s) && constValue(index.s) < BigInt(map!.maxEntries)) w.needPrecise(st, [3]);
  }
  // The call clobbers r1-r5 and sets r0.
  // Invalidated pointers become numbers, or (without CAP_PERFMON, lest they leak) unreadable (mark_reg_invalid).
  const invalid = (): RegState => (w.privileged ? unknownReg() : NOT_INIT);
  if (proto.packetChanging) {
    mapAllRegs(st, (r) => (isPacket(r) || r.type === 'pkt_end' ? invalid() : r));
  }
  if (ringbuf) {
    const released = ringbuf.id;
    mapAllRegs(st, (r) => (r.type === 'ringbuf_mem' && r.id === released ? invalid() : r));
    st.refs = st.refs.filter((ref) => ref.id !== released);
  }
  for (let r = 1; r <= 5; r++) f.regs[r] = NOT_INIT;
  switch (proto.ret) {
    case 'int': f.regs[0] = unknownReg(); break;
    case 'cpu_id': f.regs[0] = scalarReg(scalarFromLoad(4, false)); break;
    case 'void': f.regs[0] = NOT_INIT; break;
    case 'map_value_or_null': {
      const index = w.maps.indexOf(map!);
      const key = constantKey;
      // An array lookup with a constant key below max_entries cannot fail (the kernel knows this too).
      const sure = key !== undefined && key < BigInt(map!.maxEntries);
      f.regs[0] = sure ? pointerReg('map_value', { map: index }) : pointerReg('map_value_or_null', { map: index, id: ++w.idGen });
      break;
    }
    case 'ringbuf_mem_or_null': {
      // The kernel numbers the NULL check, then the reference, and keeps the latter for both.
      w.idGen++;
      const id = ++w.idGen;
      f.regs[0] = pointerReg('ringbuf_mem_or_null', { memSize: allocSize, id });
      st.refs.push({ id, insn: pc });
      break;
    }
  }
  if (id === HelperId.TAIL_CALL) f.regs[0] = NOT_INIT; // bpf_tail_call returns nothing the program may read
  return pc + 1;
}

/**
 * The key a stack pointer points at, when the verifier knows it (get_constant_map_key): its bytes
 * all zero, or exactly `size` bytes of a spilled constant from the key's first byte on, in which
 * case the value is the whole spilled register (as the kernel takes it) and `slot` must become
 * precise. (The kernel asks for CAP_BPF, which every loader this verifier models has.)
 */
export function stackConstant(w: Walk, st: VerifierState, reg: RegState, size: number): { value: bigint; slot?: number } | undefined {
  if (reg.type !== 'fp' || !isConst(reg.s)) return undefined;
  const f = st.frames[reg.frame];
  if (!f) return undefined;
  const at = MAX_BPF_STACK + reg.off + Number(BigInt.asIntN(64, constValue(reg.s)));
  if (at < 0 || at >= MAX_BPF_STACK) return undefined;
  const slotEnd = (at & ~7) + 8;
  const run = (kind: number): number => {
    let n = 0;
    while (at + n < slotEnd && f.kinds[at + n] === kind) n++;
    return n;
  };
  if (run(Slot.ZERO) >= size) return { value: 0n };
  const k = at >> 3;
  const spilled = f.spills[k];
  if (f.kinds[k * 8] !== Slot.SPILL || spilled?.type !== 'scalar' || run(Slot.SPILL) !== size || !isConst(spilled.s)) return undefined;
  return { value: constValue(spilled.s), slot: k };
}

export function exit(w: Walk, pc: number, st: VerifierState): number {
  const f = curFrame(st);
  const r0 = f.regs[0]!;
  // A subprogram may leave r0 unset: the caller then cannot read it.
  if (r0.type === 'not_init' && st.frames.length === 1) throw new VerifyError('R0 !read_ok', pc);
  checkStackDepth(w, st, pc);
  if (st.frames.length > 1) {
    if (r0.type === 'fp' && r0.frame === st.frames.length - 1) throw new VerifyError('cannot return stack pointer to the caller', pc);
    st.frames.pop();
    const caller = curFrame(st);
    caller.regs[0] = r0;
    for (let r = 1; r <= 5; r++) caller.regs[r] = NOT_INIT;
    return f.callsite;
  }
  if (isPointer(r0) && !w.privileged) throw new VerifyError('R0 leaks addr as return value', pc);
  const leaked = st.refs[0];
  if (leaked) throw new VerifyError(`Unreleased reference id=${leaked.id} alloc_insn=${leaked.insn}`, pc);
  return -1;
}

export function checkStackDepth(w: Walk, st: VerifierState, pc: number): void {
  // Each frame rounded up to 16 bytes, as the kernel rounds when the JIT is on (round_up_stack_depth).
  const total = st.frames.reduce((sum, fr) => sum + Math.ceil(fr.stackDepth / 16) * 16, 0);
  if (total > MAX_BPF_STACK) {
    throw new VerifyError(`combined stack size of ${st.frames.length} calls is ${total}. Too large`, pc);
  }
}

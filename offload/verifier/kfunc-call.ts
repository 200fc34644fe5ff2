/**
 * Calls of kernel functions (kfuncs), as check_kfunc_call and
 * check_kfunc_args do them (kernel/bpf/verifier.c): the function must be in
 * the running kernel's BTF and in a set offered to XDP programs
 * (kfunc-table.ts); each argument is checked against the BTF prototype
 * (kfunc-protos.ts): the context, memory with a bounded size (read and
 * written, the size register made precise), a pointer to the kernel struct
 * the prototype names (a referenced one for a release function, a non-NULL
 * one for trusted arguments), scalars; a release function drops the
 * reference and every register holding it; r1-r5 are clobbered; r0 becomes
 * what the prototype returns — a PTR_TO_BTF_ID, maybe NULL, holding a new
 * reference for an acquire function.
 */
import type { Insn } from '../../xdp/isa/insn.js';
import { checkCtxUnmodified, checkHelperMem } from './mem-checks.js';
import { XDP_KFUNCS, hasFlag } from './kfunc-table.js';
import type { KernelFunctions, KfuncArg } from './kfunc-protos.js';
import { NOT_INIT, pointerReg, typeName, unknownReg, type RegState } from './reg-state.js';
import { constValue, isConst } from './scalar.js';
import { curFrame, mapAllRegs, type VerifierState } from './state.js';
import type { Walk } from './verifier.js';
import { VerifyError } from './verify-error.js';

/**
 * The function a kfunc call names: in an object, the extern its imm indexes (the loader's doing);
 * in bare instructions, imm is a BTF id of the running kernel, as the kernel reads it.
 */
function kfuncRef(w: Walk, kernel: KernelFunctions, imm: number, pc: number): { readonly name: string; readonly weak: boolean } {
  if (w.program.kfuncs === undefined) {
    const name = kernel.funcName(imm);
    if (name === undefined) throw new VerifyError(`kernel btf_id ${imm} is not a function`, pc);
    return { name, weak: false };
  }
  const ref = w.program.kfuncs[imm];
  if (!ref) throw new VerifyError(`kernel function call #${imm} names no extern function of the program`, pc);
  return ref;
}

/** Largest size a memory argument may have (BPF_MAX_VAR_SIZ). */
const MAX_VAR_SIZE = 1n << 29n;
const MEM_TYPES = new Set<RegState['type']>(['fp', 'pkt', 'pkt_meta', 'map_value', 'ringbuf_mem']);

export function kfuncCall(w: Walk, pc: number, insn: Insn, st: VerifierState): number {
  const kernel = w.kernelFunctions();
  if (!kernel) throw new VerifyError('calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF', pc);
  const ref = kfuncRef(w, kernel, insn.imm, pc);
  const proto = kernel.proto(ref.name);
  if (!proto) {
    // libbpf refuses the object before the kernel sees it; a weak extern becomes a call the verifier must find dead.
    throw new VerifyError(ref.weak
      ? 'invalid kernel function call not eliminated in verifier pass'
      : `extern (func ksym) '${ref.name}': not found in kernel or module BTFs`, pc);
  }
  if (!w.gpl) throw new VerifyError('cannot call kernel function from non-GPL compatible program', pc);
  const rule = XDP_KFUNCS[ref.name];
  if (!rule) throw new VerifyError(`calling kernel function ${ref.name} is not allowed`, pc);
  if (rule.devBound && !w.offloaded) throw new VerifyError('metadata kfuncs require device-bound program', pc);
  const f = curFrame(st);
  const ctx = w.memContext(st, pc);
  let released: RegState | undefined;
  const args = proto.args;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const r = i + 1;
    const reg = f.regs[r]!;
    if (reg.type === 'not_init') throw new VerifyError(`R${r} !read_ok`, pc);
    // Every pointer argument is trusted (Linux 6.18): NULL, or what may be NULL, only where the
    // parameter is named __nullable.
    if ((arg.kind === 'ctx' || arg.kind === 'mem' || arg.kind === 'struct') && !arg.name.endsWith('__nullable') &&
      ((reg.type === 'scalar' && isConst(reg.s) && constValue(reg.s) === 0n) || reg.type.endsWith('_or_null'))) {
      throw new VerifyError(`Possibly NULL pointer passed to trusted arg${i}`, pc);
    }
    switch (arg.kind) {
      case 'ctx':
        if (reg.type !== 'ctx') throw new VerifyError(`arg#${i} expected pointer to ctx, but got ${typeName(reg.type)}`, pc);
        checkCtxUnmodified(ctx, r, reg);
        break;
      case 'scalar':
      case 'size':
        if (reg.type !== 'scalar') throw new VerifyError(`R${r} is not a scalar`, pc);
        break;
      case 'mem':
        memArg(w, pc, st, args, i, reg, arg);
        if (arg.sized) i++; // the size was checked with it
        break;
      case 'struct': {
        const release = hasFlag(rule, 'release') && released === undefined;
        if (reg.type === 'btf_id_or_null' && (release || hasFlag(rule, 'trusted_args'))) {
          throw new VerifyError(`Possibly NULL pointer passed to trusted arg${i}`, pc);
        }
        if (reg.type !== 'btf_id') {
          throw new VerifyError(`arg#${i} pointer type STRUCT ${arg.struct} must point to a kernel object (PTR_TO_BTF_ID), R${r} is ${typeName(reg.type)}`, pc);
        }
        if (reg.btf?.name !== arg.struct) {
          throw new VerifyError(`kernel function ${ref.name} args#${i} expected pointer to STRUCT ${arg.struct} but R${r} has a pointer to STRUCT ${reg.btf?.name}`, pc);
        }
        if (release) {
          if (!st.refs.some((x) => x.id === reg.id)) throw new VerifyError(`release kernel function ${ref.name} expects refcounted PTR_TO_BTF_ID`, pc);
          if (reg.off !== 0) throw new VerifyError(`R${r} must have zero offset when passed to release func or trusted arg to kfunc`, pc);
          released = reg;
        }
        break;
      }
      case 'unsupported':
        throw new VerifyError(`kernel function ${ref.name}: ${arg.why} is not modelled by this verifier`, pc);
    }
  }
  // Released: the reference and every register that held it are gone (release_reference).
  if (released) {
    const id = released.id;
    const invalid = (): RegState => (w.privileged ? unknownReg() : NOT_INIT);
    mapAllRegs(st, (x) => ((x.type === 'btf_id' || x.type === 'btf_id_or_null') && x.id === id ? invalid() : x));
    st.refs = st.refs.filter((x) => x.id !== id);
  }
  for (let r = 1; r <= 5; r++) f.regs[r] = NOT_INIT;
  const ret = proto.ret;
  switch (ret.kind) {
    case 'void': f.regs[0] = NOT_INIT; break;
    case 'scalar': f.regs[0] = unknownReg(); break;
    case 'struct': {
      const maybeNull = hasFlag(rule, 'ret_null');
      // As for ring-buffer records: the NULL check is numbered first, then the reference, which both use.
      if (maybeNull) w.idGen++;
      const acquire = hasFlag(rule, 'acquire');
      const id = acquire || maybeNull ? ++w.idGen : 0;
      f.regs[0] = pointerReg(maybeNull ? 'btf_id_or_null' : 'btf_id', { id, btf: { id: ret.structId, name: ret.struct } });
      if (acquire) st.refs.push({ id, insn: pc });
      break;
    }
    case 'unsupported':
      throw new VerifyError(`kernel function ${ref.name} ${ret.why}: not modelled by this verifier`, pc);
  }
  return pc + 1;
}

/** A memory argument: readable and writable for its size (the next argument's upper bound, or the pointee's size). */
function memArg(w: Walk, pc: number, st: VerifierState, args: readonly KfuncArg[], i: number, reg: RegState, arg: Extract<KfuncArg, { kind: 'mem' }>): void {
  const r = i + 1;
  const f = curFrame(st);
  if (!MEM_TYPES.has(reg.type)) {
    throw new VerifyError(`R${r} type=${typeName(reg.type)} expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_`, pc);
  }
  const ctx = w.memContext(st, pc);
  let size = arg.size;
  if (arg.sized) {
    const sizeReg = f.regs[r + 1]!;
    const sizeArg = args[i + 1];
    if (sizeReg.type !== 'scalar') throw new VerifyError(`R${r + 1} is not a scalar`, pc);
    if (sizeArg?.kind === 'size' && sizeArg.constant && !isConst(sizeReg.s)) throw new VerifyError(`R${r + 1} must be a known constant`, pc);
    const bad = (why: string) => new VerifyError(`${why}\narg#${i} arg#${i + 1} memory, len pair leads to invalid memory access`, pc);
    if (sizeReg.s.smin < 0n) throw bad(`R${r + 1} min value is negative, either use unsigned or 'var &= const'`);
    if (sizeReg.s.umax >= MAX_VAR_SIZE) throw bad(`R${r + 1} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
    size = Number(isConst(sizeReg.s) ? constValue(sizeReg.s) : sizeReg.s.umax);
    w.needPrecise(st, [r + 1]);
  }
  checkHelperMem(ctx, r, reg, size, false);
  checkHelperMem(ctx, r, reg, size, true);
}

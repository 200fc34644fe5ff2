/**
 * A kfunc's prototype as the verifier checks it, read from the running
 * kernel's BTF (/sys/kernel/btf/vmlinux) the way check_kfunc_args and
 * get_kfunc_ptr_arg_type classify parameters (kernel/bpf/verifier.c): a
 * pointer to the program's context type, memory with its size in the next
 * parameter (a name ending in `__sz`, constant when `__szk`), a pointer to a
 * kernel struct (PTR_TO_BTF_ID), a pointer to a scalar (memory of that
 * size), or a scalar; the return type likewise. Kinds this verifier does not
 * model (dynptrs, iterators, callbacks, `void *` without a size) are kept as
 * `unsupported` with the reason, so the refusal can say what is missing.
 */
import { readFileSync } from 'node:fs';
import { parseBtf } from '../../xdp/btf/btf-parse.js';
import { resolveType, sizeOf } from '../../xdp/btf/btf-resolve.js';
import type { Btf, BtfType } from '../../xdp/btf/btf-types.js';

export type KfuncArg =
  | { readonly kind: 'scalar'; readonly name: string; readonly size: number }
  | { readonly kind: 'size'; readonly name: string; readonly constant: boolean }
  | { readonly kind: 'ctx'; readonly name: string }
  | { readonly kind: 'mem'; readonly name: string; readonly sized: boolean; readonly size: number }
  | { readonly kind: 'struct'; readonly name: string; readonly struct: string; readonly structId: number }
  | { readonly kind: 'unsupported'; readonly name: string; readonly why: string };

export type KfuncRet =
  | { readonly kind: 'void' }
  | { readonly kind: 'scalar'; readonly size: number }
  | { readonly kind: 'struct'; readonly struct: string; readonly structId: number }
  | { readonly kind: 'unsupported'; readonly why: string };

export interface KfuncProto {
  readonly name: string;
  /** The FUNC's id in the kernel's BTF (what the call's imm becomes). */
  readonly btfId: number;
  readonly args: readonly KfuncArg[];
  readonly ret: KfuncRet;
}

/** What a load of `size` bytes at `off` in a kernel struct finds there (btf_struct_walk). */
export type FieldAccess =
  | { readonly kind: 'scalar' }
  | { readonly kind: 'pointer'; readonly struct: string; readonly structId: number }
  | { readonly kind: 'beyond'; readonly struct: string }
  | { readonly kind: 'bad'; readonly message: string };

/** The running kernel's functions, by name: undefined when the kernel has none of that name. */
export interface KernelFunctions {
  readonly source: string;
  proto(name: string): KfuncProto | undefined;
  /** The name of function `btfId` (a call's imm as the kernel reads it), or undefined when that id is no FUNC. */
  funcName(btfId: number): string | undefined;
  /** A load from kernel struct `structId` at byte `off`, `size` bytes wide. */
  field(structId: number, off: number, size: number): FieldAccess;
  /** Byte offset and size of member `member` of struct `structId` (top level), if it has one. */
  member(structId: number, member: string): { readonly off: number; readonly size: number } | undefined;
}

/**
 * btf_struct_walk, reduced to what a load needs: descend through nested structs, unions and arrays to
 * the member holding [off, off + size); a pointer read whole at its start gives a pointer to what it
 * points at (a struct) and a scalar otherwise; any other bytes inside the struct are a scalar.
 */
function walkField(btf: Btf, structId: number, off: number, size: number): FieldAccess {
  const top = resolveType(btf, structId);
  const name = top.name || '(anon)';
  if (top.kind !== 'STRUCT' && top.kind !== 'UNION') return { kind: 'bad', message: `type ${describe(top)} is not a struct` };
  if (off < 0 || off + size > top.size) return { kind: 'beyond', struct: name };
  let t: BtfType = top;
  let at = off;
  for (;;) {
    if (t.kind === 'ARRAY') {
      const elem = sizeOf(btf, t.type);
      if (elem === 0) return { kind: 'scalar' };
      at %= elem;
      t = resolveType(btf, t.type);
      continue;
    }
    if (t.kind === 'PTR') {
      if (at !== 0 || size !== 8) return { kind: 'scalar' };
      const pointee = resolveType(btf, t.type);
      return pointee.kind === 'STRUCT' ? { kind: 'pointer', struct: pointee.name, structId: pointee.id } : { kind: 'scalar' };
    }
    if (t.kind !== 'STRUCT' && t.kind !== 'UNION') return { kind: 'scalar' };
    const inner: BtfType = t;
    const holder = inner.members.find((m) => {
      if (m.bitfieldSize > 0) return false;
      const start = m.bitOffset / 8;
      const len = sizeOf(btf, m.type);
      return at >= start && at + size <= start + len && len > 0;
    });
    if (!holder) return { kind: 'scalar' }; // across members or bitfields: plain bytes
    at -= holder.bitOffset / 8;
    t = resolveType(btf, holder.type);
  }
}

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
/** The context struct of an XDP program (btf_is_prog_ctx_type). */
const XDP_CTX = 'xdp_md';

const sizeSuffix = (name: string): 'var' | 'const' | undefined =>
  name.endsWith('__szk') ? 'const' : name.endsWith('__sz') ? 'var' : undefined;

function describe(t: BtfType): string {
  return `${t.kind} ${t.name || '(anon)'}`;
}

function classifyArg(btf: Btf, type: number, name: string, nextName: string | undefined): KfuncArg {
  const t = resolveType(btf, type);
  const sizeKind = sizeSuffix(name);
  if (t.kind !== 'PTR') {
    if (sizeKind) return { kind: 'size', name, constant: sizeKind === 'const' };
    if (t.kind === 'INT' || t.kind === 'ENUM' || t.kind === 'ENUM64') return { kind: 'scalar', name, size: t.size };
    return { kind: 'unsupported', name, why: `argument ${name} of kind ${t.kind}` };
  }
  const pointee = resolveType(btf, t.type);
  if ((pointee.kind === 'STRUCT' || pointee.kind === 'FWD') && pointee.name === XDP_CTX) return { kind: 'ctx', name };
  if (nextName !== undefined && sizeSuffix(nextName)) return { kind: 'mem', name, sized: true, size: 0 };
  if (pointee.kind === 'STRUCT') {
    if (pointee.name === 'bpf_dynptr' || name.endsWith('__uninit') || name.endsWith('__iter')) {
      return { kind: 'unsupported', name, why: `${name} is a dynptr or iterator argument` };
    }
    return { kind: 'struct', name, struct: pointee.name, structId: pointee.id };
  }
  if (pointee.kind === 'INT' || pointee.kind === 'ENUM' || pointee.kind === 'ENUM64') {
    return { kind: 'mem', name, sized: false, size: sizeOf(btf, pointee.id) };
  }
  return { kind: 'unsupported', name, why: `arg ${name}: pointer type ${describe(pointee)} must point to scalar, or struct with scalar` };
}

function classifyRet(btf: Btf, type: number): KfuncRet {
  if (type === 0) return { kind: 'void' };
  const t = resolveType(btf, type);
  if (t.kind === 'VOID') return { kind: 'void' };
  if (t.kind === 'INT' || t.kind === 'ENUM' || t.kind === 'ENUM64') return { kind: 'scalar', size: t.size };
  if (t.kind === 'PTR') {
    const pointee = resolveType(btf, t.type);
    if (pointee.kind === 'STRUCT') return { kind: 'struct', struct: pointee.name, structId: pointee.id };
    return { kind: 'unsupported', why: `returns pointer type ${describe(pointee)}` };
  }
  return { kind: 'unsupported', why: `returns ${describe(t)}` };
}

/** Prototypes of the functions in `btf` (a kernel's BTF), built on first use per name. */
export function kernelFunctions(btf: Btf, source: string): KernelFunctions {
  const funcs = new Map<string, number>();
  for (const t of btf.types) if (t.kind === 'FUNC' && !funcs.has(t.name)) funcs.set(t.name, t.id);
  const built = new Map<string, KfuncProto>();
  return {
    source,
    proto(name) {
      const cached = built.get(name);
      if (cached) return cached;
      const id = funcs.get(name);
      if (id === undefined) return undefined;
      const func = btf.types[id]!;
      const proto = func.kind === 'FUNC' ? btf.types[func.type] : undefined;
      if (proto?.kind !== 'FUNC_PROTO') return undefined;
      const args = proto.params.map((p, i) => classifyArg(btf, p.type, p.name, proto.params[i + 1]?.name));
      const result: KfuncProto = { name, btfId: id, args, ret: classifyRet(btf, proto.ret) };
      built.set(name, result);
      return result;
    },
    funcName(btfId) {
      const t = btfId > 0 ? btf.types[btfId] : undefined;
      return t?.kind === 'FUNC' ? t.name : undefined;
    },
    field: (structId, off, size) => walkField(btf, structId, off, size),
    member(structId, member) {
      const t = resolveType(btf, structId);
      if (t.kind !== 'STRUCT' && t.kind !== 'UNION') return undefined;
      const m = t.members.find((x) => x.name === member);
      return m ? { off: m.bitOffset / 8, size: sizeOf(btf, m.type) } : undefined;
    },
  };
}

/** The running kernel's functions, or undefined when it exposes no BTF (no CONFIG_DEBUG_INFO_BTF). */
export function runningKernelFunctions(path: string = VMLINUX_BTF): KernelFunctions | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  return kernelFunctions(parseBtf(bytes, { file: path }), path);
}

/**
 * Loads and stores through each kind of pointer, with the kernel's rules
 * (check_mem_access and friends in kernel/bpf/verifier.c): the XDP context
 * field by field (xdp_is_valid_access in net/core/filter.c), the packet within
 * the range a bounds check proved, map values within value_size, the stack
 * within its 512 bytes with spills and fills of whole registers.
 */
import type { MapDef } from '../../xdp/object/bpf-object.js';
import { BPF_F_RDONLY_PROG } from '../../xdp/maps/map-types.js';
import { frozenValue } from '../../xdp/object/global-data.js';
import type { KernelFunctions } from './kfunc-protos.js';
import { S64_MIN, constScalar, constValue, isConst, scalarFromLoad, scalarWidth, signExtend, truncate } from './scalar.js';
import { tnumText } from './tnum.js';
import { NOT_INIT, isPacket, isPointer, pointerReg, scalarReg, typeName, type RegState } from './reg-state.js';
import { MAX_BPF_STACK, Slot, ownStack, type FuncState } from './state.js';
import { VerifyError } from './verify-error.js';

/** What the walk learns from stack accesses: liveness (read-marks.ts) and spills/fills (precision.ts). */
export interface StackEvents {
  /** Bytes [from, to) of a frame's stack (indices into its `kinds`) are read. */
  read(frame: number, from: number, to: number): void;
  /** Slot k of a frame is overwritten whole. */
  wroteSlot(frame: number, k: number): void;
  /** A register was spilled to slot k of a frame, or filled from it. */
  spillFill(frame: number, k: number): void;
  /** The zero a register held became zero bytes on the stack: that register's value must be exact. */
  zeroFrom(regno: number): void;
}

export interface MemContext {
  readonly insn: number;
  readonly maps: readonly MapDef[];
  readonly privileged: boolean;
  /** Expected attach type of the program (XDP, XDP_DEVMAP, XDP_CPUMAP). */
  readonly attach: string;
  /** Verified for a device (bpf_prog_is_offloaded): rx_queue_index may be written. */
  readonly offloaded?: boolean;
  /** The frame a stack pointer of frame `n` points into (a VerifyError if that frame has returned). */
  frame(n: number): FuncState;
  readonly stack?: StackEvents;
  /** The running kernel's BTF, for loads through pointers to kernel structs (kfunc results). */
  kernel?(): KernelFunctions | undefined;
}

/** Fixed offset of an access and the bounds of its variable part: [lo, hi] over all possibilities. */
function span(reg: RegState, off: number): { lo: number; hi: number; constant: boolean } {
  const base = reg.off + off;
  if (isConst(reg.s)) {
    const v = Number(BigInt.asIntN(64, constValue(reg.s)));
    return { lo: base + v, hi: base + v, constant: true };
  }
  return { lo: base + Number(reg.s.smin), hi: base + Number(reg.s.umax > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : reg.s.umax), constant: false };
}

const XDP_MD_FIELDS: Readonly<Record<number, RegState['type'] | 'u32'>> = {
  0: 'pkt', 4: 'pkt_end', 8: 'pkt_meta', 12: 'u32', 16: 'u32', 20: 'u32',
};

/** A context pointer must be the one the program was given (__check_ptr_off_reg). */
export function checkCtxUnmodified(c: Pick<MemContext, 'insn'>, regno: number, reg: RegState): void {
  if (reg.off < 0) throw new VerifyError(`negative offset ctx ptr R${regno} off=${reg.off} disallowed`, c.insn);
  if (reg.off !== 0) throw new VerifyError(`dereference of modified ctx ptr R${regno} off=${reg.off} disallowed`, c.insn);
  if (!isConst(reg.s) || constValue(reg.s) !== 0n) throw new VerifyError(`variable ctx access var_off=${tnumText(reg.s.var)} disallowed`, c.insn);
}

function ctxAccess(c: MemContext, regno: number, reg: RegState, off: number, size: number, write: boolean): RegState {
  checkCtxUnmodified(c, regno, reg);
  const field = XDP_MD_FIELDS[off];
  // egress_ifindex means something only to programs run by a devmap (xdp_is_valid_access).
  const devmapOnly = off === 20 && c.attach !== 'XDP_DEVMAP';
  // Only an offloaded program may write, and only rx_queue_index (xdp_is_valid_access).
  const writable = c.offloaded === true && off === 16;
  if ((write && !writable) || field === undefined || devmapOnly || off % size !== 0 || size !== 4) {
    throw new VerifyError(`invalid bpf_context access off=${off} size=${size}`, c.insn);
  }
  if (field === 'u32') return scalarReg(scalarFromLoad(4, false));
  return pointerReg(field);
}

/**
 * A packet access checks only the fixed offset against the range: a range proven for a pointer
 * with a variable part counts from that part (check_packet_access: "any reg->range we have comes
 * after that").
 */
function packetAccess(c: MemContext, regno: number, reg: RegState, off: number, size: number): void {
  if (reg.s.smin < 0n) {
    throw new VerifyError(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`, c.insn);
  }
  const at = reg.off + off;
  if (at < 0 || at + size > reg.range) {
    throw new VerifyError(
      `invalid access to packet, off=${reg.off + off} size=${size}, R${regno}(id=${reg.id},off=${at},r=${reg.range})\nR${regno} offset is outside of the packet`,
      c.insn,
    );
  }
}

function mapValueAccess(c: MemContext, regno: number, reg: RegState, off: number, size: number, write: boolean): void {
  const def = c.maps[reg.map]!;
  if (write && (def.flags & BPF_F_RDONLY_PROG) !== 0) {
    const { lo } = span(reg, off);
    throw new VerifyError(`write into map forbidden, value_size=${def.valueSize} off=${lo} size=${size}`, c.insn);
  }
  checkMemRegion(c, regno, reg, reg.off + off, size, def.valueSize, 'map value');
}

/** Offsets the kernel lets a variable part reach (BPF_MAX_VAR_OFF). */
const MAX_VAR_OFF = 1n << 29n;

/**
 * check_mem_region_access: the fixed offset plus the smallest and the largest value of the variable
 * part must both lie in the region, each failure worded as the kernel words it (__check_mem_access,
 * then which bound was outside).
 */
function checkMemRegion(c: MemContext, regno: number, reg: RegState, off: number, size: number, memSize: number, what: string): void {
  const { smin, umax } = reg.s;
  const fixed = BigInt(off);
  if (smin < 0n && (smin === S64_MIN || BigInt.asIntN(32, fixed + smin) !== fixed + smin || smin + fixed < 0n)) {
    throw new VerifyError(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`, c.insn);
  }
  const outside = (at: bigint): boolean => at < 0n || at + BigInt(size) > BigInt(memSize);
  const text = (at: bigint) => `invalid access to ${what}, value_size=${memSize} off=${BigInt.asIntN(32, at)} size=${size}`;
  if (outside(smin + fixed)) throw new VerifyError(`${text(smin + fixed)}\nR${regno} min value is outside of the allowed memory range`, c.insn);
  if (umax >= MAX_VAR_OFF) throw new VerifyError(`R${regno} unbounded memory access, make sure to bounds check any such access`, c.insn);
  if (outside(umax + fixed)) throw new VerifyError(`${text(umax + fixed)}\nR${regno} max value is outside of the allowed memory range`, c.insn);
}

/**
 * A load or store through a pointer to a kernel struct (check_ptr_to_btf_access): at a constant,
 * non-negative offset inside the struct; a load reads a scalar, or a pointer to the struct a
 * pointer member points at (btf_struct_walk); a store only to nf_conn's mark, the one field
 * netfilter lets programs write (nf_conntrack_btf_struct_access).
 */
function kernelStructAccess(c: MemContext, regno: number, reg: RegState, off: number, size: number, write: boolean, signed: boolean): RegState {
  const name = reg.btf?.name ?? '?';
  const at = reg.off + off;
  if (at < 0) throw new VerifyError(`R${regno} is ptr_${name} invalid negative access: off=${at}`, c.insn);
  if (!isConst(reg.s) || constValue(reg.s) !== 0n) {
    throw new VerifyError(`R${regno} is ptr_${name} invalid variable offset: off=${at}, var_off=${tnumText(reg.s.var)}`, c.insn);
  }
  const kernel = c.kernel?.();
  if (!kernel || !reg.btf) throw new VerifyError(`R${regno} invalid mem access 'ptr_${name}'`, c.insn);
  const found = kernel.field(reg.btf.id, at, size);
  if (found.kind === 'beyond') throw new VerifyError(`access beyond struct ${found.struct} at off ${at} size ${size}`, c.insn);
  if (found.kind === 'bad') throw new VerifyError(found.message, c.insn);
  if (write) {
    const mark = name === 'nf_conn' || name === 'nf_conn___init' ? kernel.member(reg.btf.id, 'mark') : undefined;
    if (!mark) throw new VerifyError('only read is supported', c.insn);
    if (at < mark.off || at + size > mark.off + mark.size) throw new VerifyError(`no write support to ${name} at off ${at}`, c.insn);
    return NOT_INIT;
  }
  if (found.kind === 'pointer') return pointerReg('btf_id', { btf: { id: found.structId, name: found.struct } });
  return scalarReg(scalarFromLoad(size as 1 | 2 | 4 | 8, signed));
}

/**
 * A load at a constant offset from a frozen read-only map (`.rodata` as libbpf loads it) is the
 * constant stored there (check_mem_access → bpf_map_direct_read), sign-extended for BPF_MEMSX.
 */
function frozenRead(def: MapDef, reg: RegState, off: number, size: number, signed: boolean): RegState | undefined {
  const bytes = frozenValue(def);
  if (!bytes || !isConst(reg.s)) return undefined;
  const at = reg.off + off + Number(BigInt.asIntN(64, constValue(reg.s)));
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i] ?? 0);
  if (signed) v = BigInt.asUintN(64, BigInt.asIntN(size * 8, v));
  return scalarReg(constScalar(v));
}

/**
 * A read of never-written stack, as the kernel words it: beyond every write so far the stack is not
 * even allocated ("off=-8 size=8"); inside it, the first unwritten byte is named ("off -8+4 size 8").
 */
function uninitRead(f: FuncState, regno: number, off: number, byte: number, size: number, indirect: string): string {
  if (-off > Math.ceil(f.stackDepth / 8) * 8) return `invalid read from stack R${regno} off=${off} size=${size}`;
  return indirect ? `invalid${indirect} read from stack R${regno} off ${off}+${byte} size ${size}` : `invalid read from stack off ${off}+${byte} size ${size}`;
}

/** Byte index in the frame's stack arrays of fp + off. */
const stackIndex = (off: number): number => MAX_BPF_STACK + off;

function stackBounds(c: MemContext, regno: number, reg: RegState, off: number, size: number, write: boolean): number {
  const { lo, hi, constant } = span(reg, off);
  if (!constant && (reg.s.smax >= 1n << 29n || reg.s.smin <= -(1n << 29n))) {
    throw new VerifyError(`invalid unbounded variable-offset ${write ? 'write to' : 'read from'} stack R${regno}`, c.insn);
  }
  if (!constant && !c.privileged) {
    throw new VerifyError(`R${regno} variable stack access prohibited for !root`, c.insn);
  }
  if (lo < -MAX_BPF_STACK || hi + size > 0) {
    const what = write ? 'write to' : 'read from';
    throw new VerifyError(constant
      ? `invalid ${what} stack R${regno} off=${lo} size=${size}`
      : `invalid variable-offset ${what} stack R${regno} var_off=${tnumText(reg.s.var)} off=${reg.off + off} size=${size}`, c.insn);
  }
  return constant ? lo : Number.NaN;
}

function stackWrite(
  c: MemContext, regno: number, reg: RegState, off: number, size: number, value: RegState | undefined, imm: bigint | undefined, valueRegno: number,
): void {
  const f = c.frame(reg.frame);
  ownStack(f);
  const at = stackBounds(c, regno, reg, off, size, true);
  if (Number.isNaN(at)) {
    // A variable-offset write: every byte it might touch becomes misc.
    const { lo, hi } = span(reg, off);
    for (let i = stackIndex(lo); i < stackIndex(hi + size); i++) {
      f.kinds[i] = Slot.MISC;
      f.spills[i >> 3] = undefined;
    }
    f.stackDepth = Math.max(f.stackDepth, -lo);
    return;
  }
  f.stackDepth = Math.max(f.stackDepth, -at);
  const i = stackIndex(at);
  const slot = i >> 3;
  if (value && isPointer(value) && size !== 8) throw new VerifyError('invalid size of register spill', c.insn);
  if (size === 8) c.stack?.wroteSlot(reg.frame, slot);
  // Any write breaks up a spill it touches: the rest of that slot becomes misc bytes.
  if (f.spills[slot] !== undefined) {
    if (!c.privileged && size !== 8 && isPointer(f.spills[slot]!)) throw new VerifyError('attempt to corrupt spilled pointer on stack', c.insn);
    f.spills[slot] = undefined;
    for (let k = slot * 8; k < slot * 8 + 8; k++) if (f.kinds[k] === Slot.SPILL) f.kinds[k] = Slot.MISC;
  }
  // At the start of a slot a register (or a store's constant) is kept whole, if its value fits the
  // bytes written (check_stack_write_fixed_off spills narrow scalars too).
  const spilled = value ?? (imm !== undefined ? scalarReg(constScalar(BigInt.asUintN(64, imm))) : undefined);
  if (spilled && i % 8 === 0 && (size === 8 || (spilled.type === 'scalar' && spilled.s.umax < 1n << BigInt(8 * size)))) {
    f.spills[slot] = spilled;
    f.kinds.fill(Slot.SPILL, i, i + size);
    c.stack?.spillFill(reg.frame, slot);
    return;
  }
  const zero = spilled?.type === 'scalar' && isConst(spilled.s) && constValue(spilled.s) === 0n;
  if (zero && value !== undefined && valueRegno >= 0) c.stack?.zeroFrom(valueRegno);
  f.kinds.fill(zero ? Slot.ZERO : Slot.MISC, i, i + size);
}


function stackRead(c: MemContext, regno: number, reg: RegState, off: number, size: number, signed: boolean): RegState {
  const f = c.frame(reg.frame);
  const at = stackBounds(c, regno, reg, off, size, false);
  if (Number.isNaN(at)) {
    const { lo, hi } = span(reg, off);
    c.stack?.read(reg.frame, stackIndex(lo), stackIndex(hi + size));
    return scalarReg(scalarFromLoad(size as 1 | 2 | 4 | 8, signed));
  }
  const i = stackIndex(at);
  c.stack?.read(reg.frame, i, i + size);
  const slot = i >> 3;
  const spilled = f.spills[slot];
  if (spilled !== undefined && f.kinds[slot * 8] === Slot.SPILL) return spillRead(c, f, regno, spilled, i, at, size, signed, reg.frame);
  let allZero = true;
  for (let b = i; b < i + size; b++) {
    const k = f.kinds[b]!;
    if (k === Slot.INVALID && !c.privileged) {
      throw new VerifyError(uninitRead(f, regno, at, b - i, size, ''), c.insn);
    }
    if (k !== Slot.ZERO) allZero = false;
  }
  return allZero ? scalarReg(constScalar(0n)) : scalarReg(scalarFromLoad(size as 1 | 2 | 4 | 8, signed));
}

/**
 * A read from a slot holding a spilled register (check_stack_read_fixed_off): the whole register
 * comes back from a full 8-byte read of a full spill; a narrower read at the slot's start within the
 * spilled bytes copies the register and cuts it to the read's size (breaking its id when the value
 * does not fit); any other read of a scalar spill is zero when every byte read is a spilled zero or
 * a zero byte, else unknown. A pointer can only be filled whole.
 */
function spillRead(
  c: MemContext, f: FuncState, regno: number, spilled: RegState, i: number, at: number, size: number, signed: boolean, frame: number,
): RegState {
  const slot = i >> 3;
  let spillSize = 0;
  while (spillSize < 8 && f.kinds[slot * 8 + spillSize] === Slot.SPILL) spillSize++;
  if (size === 8 && spillSize === 8) {
    c.stack?.spillFill(frame, slot);
    return spilled;
  }
  if (spilled.type !== 'scalar') throw new VerifyError('invalid size of register fill', c.insn);
  if (size <= spillSize && i % 8 === 0) {
    c.stack?.spillFill(frame, slot);
    const width = scalarWidth(spilled.s);
    const s = signed ? signExtend(spilled.s, (size * 8) as 8 | 16 | 32, 64) : truncate(spilled.s, size as 1 | 2 | 4);
    return scalarReg(s, width > size * 8 ? 0 : spilled.id);
  }
  let spills = 0;
  let zeros = 0;
  for (let b = i; b < i + size; b++) {
    const k = f.kinds[b]!;
    if (k === Slot.SPILL) spills++;
    else if (k === Slot.ZERO) zeros++;
    else if (k === Slot.INVALID && !c.privileged) throw new VerifyError(uninitRead(f, regno, at, b - i, size, ''), c.insn);
  }
  if (spills === size && isConst(spilled.s) && constValue(spilled.s) === 0n) {
    c.stack?.spillFill(frame, slot);
    return scalarReg(constScalar(0n));
  }
  return zeros === size ? scalarReg(constScalar(0n)) : scalarReg(scalarFromLoad(size as 1 | 2 | 4 | 8, signed));
}

/**
 * Natural alignment: always for the stack, and for every pointer when `strict` (atomics);
 * other accesses may be unaligned on x86-64 (CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS).
 */
export function checkAlignment(c: MemContext, reg: RegState, off: number, size: number, strict: boolean): void {
  if (size === 1 || (!strict && reg.type !== 'fp')) return;
  const varPart = isConst(reg.s) ? constValue(reg.s) : 0n;
  if ((BigInt(reg.off + off) + varPart) % BigInt(size) === 0n && (isConst(reg.s) || (reg.s.var.value | reg.s.var.mask) % BigInt(size) === 0n)) return;
  const desc = reg.type === 'fp' ? 'stack ' : reg.type === 'map_value' ? 'value ' : isPacket(reg) ? 'packet ' : reg.type === 'ctx' ? 'context ' : '';
  const v = isConst(reg.s) ? String(BigInt.asIntN(64, constValue(reg.s))) : tnumText(reg.s.var);
  throw new VerifyError(`misaligned ${desc}access off ${v}+${reg.off}+${off} size ${size}`, c.insn);
}

/** A pointer stored where a program without CAP_PERFMON could read it back as a number. */
function leakCheck(c: MemContext, value: RegState | undefined, valueRegno: number, into: string): void {
  if (!c.privileged && value && isPointer(value)) throw new VerifyError(`R${valueRegno} leaks addr into ${into}`, c.insn);
}

/**
 * A load (value === undefined && imm === undefined for loads) or store through register `regno`
 * (of register `valueRegno`'s `value`, or of `imm`). Returns the loaded register's new state for loads.
 */
export function checkMemAccess(
  c: MemContext, regno: number, reg: RegState, off: number, size: number, write: boolean, signed: boolean,
  value?: RegState, imm?: bigint, valueRegno = -1,
): RegState {
  switch (reg.type) {
    case 'not_init':
      throw new VerifyError(`R${regno} !read_ok`, c.insn);
    case 'ctx':
      if (write) leakCheck(c, value, valueRegno, 'ctx');
      return ctxAccess(c, regno, reg, off, size, write);
    case 'pkt':
    case 'pkt_meta':
      packetAccess(c, regno, reg, off, size);
      if (write && value && isPointer(value)) throw new VerifyError(`R${valueRegno} leaks addr into packet`, c.insn);
      return write ? NOT_INIT : scalarReg(scalarFromLoad(size as 1 | 2 | 4 | 8, signed));
    case 'map_value':
      mapValueAccess(c, regno, reg, off, size, write);
      if (write) {
        leakCheck(c, value, valueRegno, 'map');
        return NOT_INIT;
      }
      return frozenRead(c.maps[reg.map]!, reg, off, size, signed) ?? scalarReg(scalarFromLoad(size as 1 | 2 | 4 | 8, signed));
    case 'ringbuf_mem': {
      const { lo, hi } = span(reg, off);
      if (lo < 0 || hi + size > reg.memSize) {
        throw new VerifyError(`invalid access to memory, mem_size=${reg.memSize} off=${lo} size=${size}`, c.insn);
      }
      if (write) leakCheck(c, value, valueRegno, 'mem');
      return write ? NOT_INIT : scalarReg(scalarFromLoad(size as 1 | 2 | 4 | 8, signed));
    }
    case 'fp':
      checkAlignment(c, reg, off, size, false);
      if (write) {
        stackWrite(c, regno, reg, off, size, value, imm, valueRegno);
        return NOT_INIT;
      }
      return stackRead(c, regno, reg, off, size, signed);
    case 'btf_id':
      return kernelStructAccess(c, regno, reg, off, size, write, signed);
    default:
      throw new VerifyError(`R${regno} invalid mem access '${typeName(reg.type)}'`, c.insn);
  }
}

/** Can `size` bytes at the pointer in `reg` be passed to a helper (key, value, memory argument)? */
export function checkHelperMem(c: MemContext, regno: number, reg: RegState, size: number, write: boolean): void {
  if (size === 0) return;
  switch (reg.type) {
    case 'fp': {
      const { lo, hi } = span(reg, 0);
      if (lo < -MAX_BPF_STACK || hi + size > 0) {
        throw new VerifyError(`invalid ${write ? 'write to' : 'read from'} stack R${regno} off=${lo} size=${size}`, c.insn);
      }
      const f = c.frame(reg.frame);
      if (write) ownStack(f);
      else c.stack?.read(reg.frame, stackIndex(lo), stackIndex(hi + size));
      for (let i = stackIndex(lo); i < stackIndex(hi + size); i++) {
        if (write) {
          f.kinds[i] = Slot.MISC;
          f.spills[i >> 3] = undefined;
        } else if (f.kinds[i] === Slot.INVALID && !c.privileged) {
          throw new VerifyError(uninitRead(f, regno, lo, i - stackIndex(lo), size, ' indirect'), c.insn);
        }
      }
      f.stackDepth = Math.max(f.stackDepth, -lo);
      return;
    }
    case 'pkt':
    case 'pkt_meta':
      packetAccess(c, regno, reg, 0, size);
      return;
    case 'map_value':
      mapValueAccess(c, regno, reg, 0, size, write);
      return;
    case 'ringbuf_mem': {
      const { lo, hi } = span(reg, 0);
      if (lo < 0 || hi + size > reg.memSize) throw new VerifyError(`invalid access to memory, mem_size=${reg.memSize} off=${lo} size=${size}`, c.insn);
      return;
    }
    case 'not_init':
      throw new VerifyError(`R${regno} !read_ok`, c.insn);
    default:
      throw new VerifyError(`R${regno} type=${typeName(reg.type)} expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_`, c.insn);
  }
}

/**
 * Loads, stores and atomic adds, lowered by the memory their base register points
 * into (the kernel JIT's `mem_ldx`/`mem_stx`/`mem_st` dispatch on the verifier's
 * pointer type — `mem_ldx_xdp`, `mem_ldx_data`, `mem_ldx_emem`, `mem_ldx_stack`,
 * `mem_xadd` — in drivers/net/ethernet/netronome/nfp/bpf/jit.c). The type comes from
 * the instruction's record: the offload rules require one type on every path.
 *
 * - stack (r10, or a register the verifier proved to be r10 + a constant): local
 *   memory at a static address (nfp/lower-stack.ts); in a program with subprograms a
 *   register's stack pointer may point into another function's frame, so it is
 *   reached through LM pointer 3 set from the register at run time (its byte lane is
 *   still static: frames are 32-byte aligned).
 * - context (`struct xdp_md`): its fields live in registers (docs/nic-image.md "Entry
 *   state"): `data` = GPR 22, `data_end` = GPR 22 + GPR 23, `data_meta` = `data` (no
 *   metadata on the card), `ingress_ifindex` GPR 24, `rx_queue_index` GPR 25 (also
 *   writable: the queue-select store). `egress_ifindex` is refused.
 * - packet (CTM) and map values (EMEM): a memory command at the pointer's low word
 *   plus the offset. A load is `read8_swap` of the access size into `$xfer_0..1`
 *   with a context swap (the thread sleeps until the data arrives), then one `alu`
 *   per word into the register (bytes arrive little-endian, the unused lanes zero,
 *   so the value is already zero-extended); a store moves the words into
 *   transfer-out registers and issues `write8_swap` without a swap. An atomic add
 *   (not fetching) is `add32_swap` / `add64_swap` on the value's words.
 *
 * Programs that were never verified as XDP (the conformance suite's) have no types:
 * with `untypedMemory: 'ctm'` their memory is the packet memory, r10 still the stack.
 */
import { NOP, type CmdInsn } from '../../../nic-sim/isa/instructions.js';
import { NO_DST, gprA, gprB, imm, lm, xfer, type Src } from '../../../nic-sim/isa/operands.js';
import { CMD_OVE_LEN, CMD_OV_LEN_SHIFT, LM_ADDR_WRITE_LATENCY, type CmdAction, type MemTarget } from '../../../nic-sim/isa/tables.js';
import type { Insn as EbpfInsn } from '../../../xdp/isa/insn.js';
import type { AccessSize, InsnKind } from '../../../xdp/isa/kind.js';
import { NONE_SRC, alu, emit, immOperand, loadImm32, mappedReg, shf, unsupported, zeroHigh, type EmitCtx, type JitRegFacts } from './emit.js';
import { CACHE_XFER, DIRECT_WORDS } from './pkt-cache.js';
import { CHUNK_BYTES, type GatherCopy } from './gather.js';
import { FP, loadStack, storeStackImm, storeStackReg } from './lower-stack.js';
import { CTX_GPR, IMM_GPR, TMP_GPR, dest, loGpr, right } from './regs.js';
import { atomicConstant } from './const-src.js';
import { enabled } from './passes.js';

/** Where a base register points. */
export type MemBase =
  | { readonly k: 'stack'; readonly fpOff: number }
  /** A stack pointer in a register whose frame is known only at run time (programs with subprograms). */
  | { readonly k: 'stack-reg'; readonly reg: number; readonly fpOff: number }
  | { readonly k: 'ctx' }
  | { readonly k: 'mem'; readonly target: MemTarget; readonly reg: number }
  | { readonly k: 'refused'; readonly why: string };

/** Largest immediate a restricted operand holds (CMD's address operands). */
const RE_IMM_MAX = 0x7f;

const PACKET_TYPES = new Set(['pkt', 'pkt_meta']);

/** What the verifier's types of a base register say about the memory it reaches. */
export function classifyBase(
  reg: number, facts: JitRegFacts | undefined, hasFacts: boolean, untyped: 'refuse' | 'ctm', dynamicFrames = false,
): MemBase {
  if (reg === FP) return { k: 'stack', fpOff: 0 };
  if (!hasFacts || facts === undefined || facts.types.size === 0) {
    if (untyped === 'ctm' && !hasFacts) return { k: 'mem', target: 'ctm', reg };
    return { k: 'refused', why: `r${reg} has no type from the verifier (the instruction was never reached, or the program was not verified)` };
  }
  const types = [...facts.types];
  if (types.every((t) => PACKET_TYPES.has(t))) return { k: 'mem', target: 'ctm', reg };
  if (types.length === 1) {
    switch (types[0]) {
      case 'map_value': return { k: 'mem', target: 'emem', reg };
      case 'ctx': return { k: 'ctx' };
      case 'fp':
        if (facts.offMin !== undefined && facts.offMin === facts.offMax) {
          return dynamicFrames ? { k: 'stack-reg', reg, fpOff: facts.offMin } : { k: 'stack', fpOff: facts.offMin };
        }
        return { k: 'refused', why: `r${reg} points into the stack at a variable offset` };
      default:
    }
  }
  return { k: 'refused', why: `r${reg} is ${types.join(' or ')}: loads and stores go through packet, stack, context or map-value pointers, one type on every path` };
}

/** The base register of a memory instruction (ldx: src; st, stx, atomic: dst). */
export const baseReg = (insn: EbpfInsn, kind: InsnKind): number => (kind.k === 'ldx' ? insn.src : insn.dst);

function baseOf(ctx: EmitCtx, reg: number, what: string): Exclude<MemBase, { k: 'refused' }> {
  const b = classifyBase(reg, ctx.reads?.[reg], ctx.reads !== undefined, ctx.opts.untypedMemory, ctx.opts.hasCalls);
  if (b.k === 'refused') throw unsupported(ctx, `${what}: ${b.why}`);
  return b;
}

/** The offset as the B operand of a command: an immediate, or the scratch register. */
function offsetOperand(ctx: EmitCtx, off: number): Src {
  const u = off >>> 0;
  if (u <= RE_IMM_MAX) return imm(u);
  loadImm32(ctx, gprB(IMM_GPR), u);
  return gprB(IMM_GPR);
}

function command(ctx: EmitCtx, target: MemTarget, action: CmdAction, reg: number, off: number, length: number, wait: boolean): void {
  const b = offsetOperand(ctx, off);
  const insn: CmdInsn = {
    cls: 'cmd', target, action, byteSwap: true, xfer: 0, length, a: gprA(loGpr(reg)), b,
    ctxSwap: wait, defer: 0, sig: wait ? 1 : 0, mode: 'addr32', indirect: false,
  };
  emit(ctx, insn);
}

// ---- stack pointers in registers (programs with subprograms) ----

/** Point LM pointer 3 at the register's address + off (word-aligned: the lane is static) and wait; the byte lane. */
function dynamicSlot(ctx: EmitCtx, reg: number, fpOff: number, off: number, size: AccessSize, what: string): number {
  const lane = (fpOff + off) & 3;
  if (lane % size !== 0) throw unsupported(ctx, `${what} at r10${fpOff + off}: not aligned to its size ${size}`);
  alu(ctx, gprA(TMP_GPR), gprA(loGpr(reg)), 'add', immOperand(ctx, off, 'b'));
  emit(ctx, { cls: 'local_csr', write: true, csr: 'ACT_LM_ADDR3', src: gprA(TMP_GPR) });
  for (let i = 0; i < LM_ADDR_WRITE_LATENCY; i++) emit(ctx, NOP);
  return lane;
}

function laneLoad(ctx: EmitCtx, d: number, size: AccessSize, lane: number): void {
  if (size === 1 || size === 2) {
    emit(ctx, {
      cls: 'ld_field', a: gprA(loGpr(d)), b: lm(3, 0), swap: false, wrBoth: true, byteMask: size === 1 ? 1 : 3, zero: true,
      sc: lane === 0 ? 'rot' : 'shr', shift: 8 * lane,
    });
  } else alu(ctx, dest(d, 0), NONE_SRC, 'none', lm(3, 0));
  if (size === 8) alu(ctx, dest(d, 1), NONE_SRC, 'none', lm(3, 1));
  else zeroHigh(ctx, d);
}

function laneStore(ctx: EmitCtx, src: Src, srcHi: Src | undefined, size: AccessSize, lane: number): void {
  if (size === 1 || size === 2) {
    emit(ctx, {
      cls: 'ld_field', a: lm(3, 0), b: src, swap: false, wrBoth: false, byteMask: (size === 1 ? 1 : 3) << lane, zero: false,
      sc: lane === 0 ? 'rot' : 'shl', shift: 8 * lane,
    });
    return;
  }
  alu(ctx, lm(3, 0), NONE_SRC, 'none', src);
  if (size === 8) alu(ctx, lm(3, 1), NONE_SRC, 'none', srcHi!);
}

// ---- load/store gathering (nfp/gather.ts) ----

/** A gathered packet copy: per 8 bytes one read into transfer-in, the words to transfer-out, one write. */
export function emitGatherCopy(ctx: EmitCtx, c: GatherCopy): void {
  for (let k = 0; k < c.length; k += CHUNK_BYTES) {
    const n = Math.min(CHUNK_BYTES, c.length - k);
    command(ctx, 'ctm', 'read8', c.base, c.from + k, n, true);
    for (let w = 0; w < Math.ceil(n / 4); w++) alu(ctx, xfer(w), NONE_SRC, 'none', xfer(w));
    command(ctx, 'ctm', 'write8', c.base, c.from + k + c.delta, n, false);
  }
}

// ---- the packet-read cache (nfp/pkt-cache.ts) ----

/** A cached packet load: the window's read (first load only), then this load's bytes out of $xfer_16... */
function loadFromWindow(ctx: EmitCtx, d: number, reg: number, size: AccessSize, c: { first: boolean; start: number; words: number; at: number }): void {
  if (c.first) {
    const b = offsetOperand(ctx, c.start);
    const indirect = c.words > DIRECT_WORDS;
    // More than 8 words: the length comes from the previous result (CMD_OVE_LEN | (words − 1) << 8), set right before.
    if (indirect) emit(ctx, { cls: 'immed', dst: NO_DST, value: CMD_OVE_LEN | ((c.words - 1) << CMD_OV_LEN_SHIFT), width: 'all', invert: false, shift: 0 });
    emit(ctx, {
      cls: 'cmd', target: 'ctm', action: 'read32', byteSwap: true, xfer: CACHE_XFER, length: indirect ? DIRECT_WORDS : c.words,
      a: gprA(loGpr(reg)), b, ctxSwap: true, defer: 0, sig: 1, mode: 'addr32', indirect,
    });
  }
  const w = CACHE_XFER + (c.at >> 2);
  const lane = c.at & 3;
  if (lane + size <= 4) {
    if (size === 4) alu(ctx, dest(d, 0), NONE_SRC, 'none', xfer(w));
    else emit(ctx, { cls: 'ld_field', a: gprA(loGpr(d)), b: xfer(w), swap: false, wrBoth: true, byteMask: size === 1 ? 1 : 3, zero: true, sc: lane === 0 ? 'rot' : 'shr', shift: 8 * lane });
  } else {
    // Across two words: (next:this) >> 8·lane, then keep the low `size` bytes.
    shf(ctx, dest(d, 0), xfer(w + 1), 'none', xfer(w), 'dshr', 8 * lane);
    if (size === 2) emit(ctx, { cls: 'ld_field', a: gprA(loGpr(d)), b: gprB(loGpr(d)), swap: false, wrBoth: true, byteMask: 3, zero: true, sc: 'rot', shift: 0 });
  }
  zeroHigh(ctx, d);
}

// ---- the context ----

/** xdp_md fields (include/uapi/linux/bpf.h struct xdp_md). */
const XdpMd = { DATA: 0, DATA_END: 4, DATA_META: 8, INGRESS_IFINDEX: 12, RX_QUEUE_INDEX: 16 } as const;

function loadCtx(ctx: EmitCtx, d: number, off: number, size: AccessSize): void {
  if (size !== 4) throw unsupported(ctx, `ldx (${size} bytes) from the context: only 4-byte field loads are lowered`);
  switch (off) {
    case XdpMd.DATA:
    case XdpMd.DATA_META:
      alu(ctx, dest(d, 0), NONE_SRC, 'none', gprB(CTX_GPR.data));
      break;
    case XdpMd.DATA_END:
      alu(ctx, dest(d, 0), gprA(CTX_GPR.data), 'add', gprB(CTX_GPR.len));
      break;
    case XdpMd.INGRESS_IFINDEX:
      alu(ctx, dest(d, 0), NONE_SRC, 'none', gprB(CTX_GPR.ifindex));
      break;
    case XdpMd.RX_QUEUE_INDEX:
      alu(ctx, dest(d, 0), NONE_SRC, 'none', gprB(CTX_GPR.rxQueue));
      break;
    default:
      throw unsupported(ctx, `ldx from context offset ${off}: not a field the card has (data, data_end, data_meta, ingress_ifindex, rx_queue_index)`);
  }
  zeroHigh(ctx, d);
}

function storeCtx(ctx: EmitCtx, off: number, size: AccessSize, value: Src | number, what: string): void {
  if (off !== XdpMd.RX_QUEUE_INDEX || size !== 4) {
    throw unsupported(ctx, `${what} to context offset ${off}: only rx_queue_index (offset 16, 4 bytes) is writable`);
  }
  const q = { k: 'gpr' as const, bank: 'ab' as const, n: CTX_GPR.rxQueue };
  if (typeof value === 'number') loadImm32(ctx, q, value >>> 0);
  else alu(ctx, q, NONE_SRC, 'none', value);
}

// ---- the lowerings ----

export function lowerLdx(ctx: EmitCtx, insn: EbpfInsn, kind: Extract<InsnKind, { k: 'ldx' }>): void {
  const what = `ldx (${kind.size} bytes)`;
  if (kind.signed) throw unsupported(ctx, `${what}: sign-extending loads are not lowered`);
  const d = mappedReg(ctx, insn.dst);
  const base = baseOf(ctx, insn.src, what);
  if (base.k === 'stack') return loadStack(ctx, d, base.fpOff + insn.off, kind.size, what);
  if (base.k === 'stack-reg') return laneLoad(ctx, d, kind.size, dynamicSlot(ctx, base.reg, base.fpOff, insn.off, kind.size, what));
  if (base.k === 'ctx') return loadCtx(ctx, d, insn.off, kind.size);
  const cached = ctx.cache.get(ctx.index);
  if (cached && base.target === 'ctm') return loadFromWindow(ctx, d, base.reg, kind.size, cached);
  command(ctx, base.target, 'read8', base.reg, insn.off, kind.size, true);
  alu(ctx, dest(d, 0), NONE_SRC, 'none', xfer(0));
  if (kind.size === 8) alu(ctx, dest(d, 1), NONE_SRC, 'none', xfer(1));
  else zeroHigh(ctx, d);
}

export function lowerStx(ctx: EmitCtx, insn: EbpfInsn, kind: Extract<InsnKind, { k: 'stx' }>): void {
  const what = `stx (${kind.size} bytes)`;
  const s = mappedReg(ctx, insn.src);
  const base = baseOf(ctx, insn.dst, what);
  if (base.k === 'stack') return storeStackReg(ctx, s, base.fpOff + insn.off, kind.size, what);
  if (base.k === 'stack-reg') {
    const lane = dynamicSlot(ctx, base.reg, base.fpOff, insn.off, kind.size, what);
    return laneStore(ctx, right(s, 0), right(s, 1), kind.size, lane);
  }
  if (base.k === 'ctx') return storeCtx(ctx, insn.off, kind.size, right(s, 0), what);
  alu(ctx, xfer(0), NONE_SRC, 'none', right(s, 0));
  if (kind.size === 8) alu(ctx, xfer(1), NONE_SRC, 'none', right(s, 1));
  command(ctx, base.target, 'write8', base.reg, insn.off, kind.size, false);
}

export function lowerSt(ctx: EmitCtx, insn: EbpfInsn, kind: Extract<InsnKind, { k: 'st' }>): void {
  const what = `st (${kind.size} bytes)`;
  const base = baseOf(ctx, insn.dst, what);
  if (base.k === 'stack') return storeStackImm(ctx, insn.imm, base.fpOff + insn.off, kind.size, what);
  if (base.k === 'stack-reg') {
    const lane = dynamicSlot(ctx, base.reg, base.fpOff, insn.off, kind.size, what);
    loadImm32(ctx, gprB(IMM_GPR), kind.size === 1 ? insn.imm & 0xff : kind.size === 2 ? insn.imm & 0xffff : insn.imm >>> 0);
    if (kind.size === 8) loadImm32(ctx, gprB(TMP_GPR), insn.imm < 0 ? 0xffffffff : 0);
    return laneStore(ctx, gprB(IMM_GPR), gprB(TMP_GPR), kind.size, lane);
  }
  if (base.k === 'ctx') return storeCtx(ctx, insn.off, kind.size, insn.imm, what);
  // The bytes written are the immediate's low `size` bytes: the rest need not be loaded.
  loadImm32(ctx, xfer(0), kind.size === 1 ? insn.imm & 0xff : kind.size === 2 ? insn.imm & 0xffff : insn.imm >>> 0);
  if (kind.size === 8) loadImm32(ctx, xfer(1), insn.imm < 0 ? 0xffffffff : 0);
  command(ctx, base.target, 'write8', base.reg, insn.off, kind.size, false);
}

/** `lock *(u32|u64 *)(dst + off) += src`: an add command on packet or map memory. */
export function lowerAtomic(ctx: EmitCtx, insn: EbpfInsn, kind: Extract<InsnKind, { k: 'atomic' }>): void {
  const what = `atomic ${kind.op}${kind.fetch ? ' (fetching)' : ''} (${kind.size} bytes)`;
  if (kind.op !== 'add' || kind.fetch) throw unsupported(ctx, `${what}: only a plain (non-fetching) add is lowered`);
  const s = mappedReg(ctx, insn.src);
  const base = baseOf(ctx, insn.dst, what);
  if (base.k !== 'mem') throw unsupported(ctx, `${what} on the ${base.k === 'ctx' ? 'context' : 'stack'}: only on packet or map memory`);
  // const-src: a constant value goes into the transfer registers as immediates (its register is not read).
  const c = enabled(ctx, 'const-src') ? atomicConstant({ index: ctx.index, insn, kind, ...(ctx.reads ? { reads: ctx.reads } : {}) }) : undefined;
  for (const w of kind.size === 8 ? ([0, 1] as const) : ([0] as const)) {
    if (c === undefined) alu(ctx, xfer(w), NONE_SRC, 'none', right(s, w));
    else loadImm32(ctx, xfer(w), Number(BigInt.asUintN(32, c >> BigInt(32 * w))));
  }
  command(ctx, base.target, kind.size === 8 ? 'add64' : 'add32', base.reg, insn.off, 1, false);
}



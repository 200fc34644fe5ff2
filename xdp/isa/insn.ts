/**
 * An eBPF instruction as a plain value, and its 8-byte wire form (RFC 9669 §3).
 *
 * One `Insn` is one instruction; `lddw` (the only wide instruction) is one `Insn`
 * covering two 8-byte slots, whose second slot is kept whole in `next` so that
 * encode(decode(bytes)) reproduces every bit, reserved fields included.
 */
import { InstructionError } from '../errors.js';
import { OPCODE_LDDW } from './opcodes.js';

export interface Slot {
  /** Opcode byte. */
  readonly code: number;
  /** Destination register (4 bits). */
  readonly dst: number;
  /** Source register (4 bits). */
  readonly src: number;
  /** Signed 16-bit offset. */
  readonly off: number;
  /** Signed 32-bit immediate. */
  readonly imm: number;
}

export interface Insn extends Slot {
  /** Second slot of `lddw`: its `imm` is the high 32 bits of the constant. */
  readonly next?: Slot;
}

export const INSN_BYTES = 8;

/** Number of 8-byte slots the instruction takes. */
export const slotCount = (insn: Insn): 1 | 2 => (insn.next ? 2 : 1);

export function makeInsn(code: number, dst = 0, src = 0, off = 0, imm = 0): Insn {
  return { code, dst, src, off, imm };
}

/** `lddw dst, value` with a pseudo source; `value` as a 64-bit BigInt (only the low 64 bits are kept). */
export function makeLddw(dst: number, value: bigint, src = 0): Insn {
  const v = BigInt.asUintN(64, value);
  const lo = Number(BigInt.asIntN(32, v));
  const hi = Number(BigInt.asIntN(32, v >> 32n));
  return { code: OPCODE_LDDW, dst, src, off: 0, imm: lo, next: { code: 0, dst: 0, src: 0, off: 0, imm: hi } };
}

/** The 64-bit constant of an `lddw`, unsigned. */
export function lddwValue(insn: Insn): bigint {
  const hi = BigInt(insn.next ? insn.next.imm >>> 0 : 0);
  return (hi << 32n) | BigInt(insn.imm >>> 0);
}

function readSlot(view: DataView, at: number, littleEndian: boolean): Slot {
  const regs = view.getUint8(at + 1);
  return {
    code: view.getUint8(at),
    dst: littleEndian ? regs & 0x0f : regs >> 4,
    src: littleEndian ? regs >> 4 : regs & 0x0f,
    off: view.getInt16(at + 2, littleEndian),
    imm: view.getInt32(at + 4, littleEndian),
  };
}

function writeSlot(view: DataView, at: number, s: Slot, littleEndian: boolean): void {
  view.setUint8(at, s.code);
  view.setUint8(at + 1, littleEndian ? ((s.src & 0xf) << 4) | (s.dst & 0xf) : ((s.dst & 0xf) << 4) | (s.src & 0xf));
  view.setInt16(at + 2, s.off, littleEndian);
  view.setInt32(at + 4, s.imm, littleEndian);
}

export interface DecodeOptions {
  littleEndian?: boolean;
  /** Used in error messages. */
  file?: string;
  section?: string;
  /** Byte offset of `bytes` inside the file/section, for error messages. */
  baseOffset?: number;
}

/**
 * Decode a whole instruction stream. Every 8-byte slot becomes part of an `Insn`;
 * a trailing partial slot or an `lddw` missing its second half is an error.
 * Unknown opcodes decode fine (they are a verifier matter, not a decoding one).
 */
export function decode(bytes: Uint8Array, opts: DecodeOptions = {}): Insn[] {
  const le = opts.littleEndian ?? true;
  const base = opts.baseOffset ?? 0;
  const where = (offset: number) => ({ file: opts.file, section: opts.section, offset: base + offset });
  if (bytes.length % INSN_BYTES !== 0) {
    throw new InstructionError(
      `instruction stream of ${bytes.length} bytes is not a multiple of ${INSN_BYTES}`,
      where(bytes.length - (bytes.length % INSN_BYTES)),
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let at = 0; at < bytes.length; at += INSN_BYTES) {
    const first = readSlot(view, at, le);
    if (first.code === OPCODE_LDDW) {
      if (at + 2 * INSN_BYTES > bytes.length) {
        throw new InstructionError('lddw at the end of the stream has no second slot', where(at));
      }
      out.push({ ...first, next: readSlot(view, at + INSN_BYTES, le) });
      at += INSN_BYTES;
    } else {
      out.push(first);
    }
  }
  return out;
}

/** Encode instructions back to bytes. Field values out of range are an error, not silently truncated. */
export function encode(insns: readonly Insn[], littleEndian = true): Uint8Array {
  let slots = 0;
  for (const i of insns) slots += slotCount(i);
  const bytes = new Uint8Array(slots * INSN_BYTES);
  const view = new DataView(bytes.buffer);
  let at = 0;
  insns.forEach((insn, index) => {
    for (const s of insn.next ? [insn, insn.next] : [insn]) {
      checkSlot(s, index);
      writeSlot(view, at, s, littleEndian);
      at += INSN_BYTES;
    }
  });
  return bytes;
}

function checkSlot(s: Slot, index: number): void {
  const bad = (what: string) => new InstructionError(what, { insn: index });
  if (!Number.isInteger(s.code) || s.code < 0 || s.code > 0xff) throw bad(`opcode ${s.code} is not a byte`);
  if (!Number.isInteger(s.dst) || s.dst < 0 || s.dst > 15) throw bad(`dst register ${s.dst} does not fit 4 bits`);
  if (!Number.isInteger(s.src) || s.src < 0 || s.src > 15) throw bad(`src register ${s.src} does not fit 4 bits`);
  if (!Number.isInteger(s.off) || s.off < -0x8000 || s.off > 0x7fff) throw bad(`offset ${s.off} does not fit 16 bits`);
  if (!Number.isInteger(s.imm) || s.imm < -0x80000000 || s.imm > 0x7fffffff) {
    throw bad(`immediate ${s.imm} does not fit 32 bits`);
  }
}

/** Slot index of every instruction (its position counted in 8-byte slots, as jumps and BTF count). */
export function slotIndices(insns: readonly Insn[]): number[] {
  const out = new Array<number>(insns.length);
  let slot = 0;
  for (let i = 0; i < insns.length; i++) {
    out[i] = slot;
    slot += slotCount(insns[i]!);
  }
  return out;
}

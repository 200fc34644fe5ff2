/**
 * Branch hints for `offload validate --random`: the constants a program compares
 * packet fields against, taken from its conditional jumps, so the random packet
 * generator (packet-gen.ts) can put them in the fields it builds and reach both
 * sides of the program's branches instead of the "random EtherType" side only.
 *
 * Only jumps with an immediate operand count (eBPF JMP/JMP32 class, source K,
 * RFC 9669 §4.3). Programs read header fields in network byte order and compare
 * them with `htons(CONST)`, which on a little-endian host is the byte-swapped
 * constant; every value is therefore also recorded byte-swapped (16-bit form when
 * it fits 16 bits, 32-bit form for the 32-bit bucket). Ordering comparisons
 * (`>`, `>=`, `<`, `<=`, signed or not) also record the neighbours value ± 1 so
 * that the boundary is hit from both sides.
 *
 * Compilers also compare against a register holding a constant (`r4 = 5; if r4 >
 * r3`, or `r2 = 0xb80d0120 ll; if r1 == r2` for a 32-bit constant a sign-extended
 * immediate cannot express): for register jumps the constant a `mov K` or `lddw`
 * put into either operand shortly before (a short backward scan, no control-flow
 * analysis: these are hints, not facts) is recorded as well.
 */

/** Constants bucketed by the field width they fit; each list sorted, no duplicates. */
export interface BranchHints {
  /** Values that fit 16 bits (and their 16-bit byte swaps): EtherTypes, ports, lengths. */
  values16: number[];
  /** Values that fit 8 bits: IP protocol, TTL, ICMP type/code, TCP flags. */
  values8: number[];
  /** Every value as unsigned 32 bits (and its 32-bit byte swap): addresses, sequence numbers. */
  values32: number[];
}

/** The fields of an instruction that matter here (xdp/isa/insn.ts `Insn` fits). */
export interface HintInsn {
  readonly code: number;
  readonly imm: number;
  readonly src: number;
  readonly dst: number;
  readonly off: number;
  /** Second slot of `lddw` (its imm is the high 32 bits). */
  readonly next?: { readonly imm: number };
}

const CLASS_JMP = 0x05;
const CLASS_JMP32 = 0x06;
const SRC_X = 0x08;
const OP_JA = 0x00;
const OP_CALL = 0x80;
const OP_EXIT = 0x90;
/** JGT, JGE, JSGT, JSGE, JLT, JLE, JSLT, JSLE: comparisons with a boundary. */
const ORDERING_OPS = new Set([0x20, 0x30, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]);

/** Swap the two low bytes of `v` (the result fits 16 bits). */
export function swap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/** Reverse the four bytes of `v`, as an unsigned 32-bit number. */
export function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff)) >>> 0;
}

/** A conditional jump against an immediate: JMP/JMP32 class, source K, not JA/CALL/EXIT. */
export function isConditionalJumpK(code: number): boolean {
  const cls = code & 0x07;
  if (cls !== CLASS_JMP && cls !== CLASS_JMP32) return false;
  const op = code & 0xf0;
  if (op === OP_JA || op === OP_CALL || op === OP_EXIT) return false;
  return (code & SRC_X) === 0;
}

/** A conditional jump comparing two registers: JMP/JMP32 class, source X, not JA/CALL/EXIT. */
function isConditionalJumpX(code: number): boolean {
  return isConditionalJumpK(code & ~SRC_X) && (code & SRC_X) !== 0;
}

const OPCODE_LDDW = 0x18;
const OPCODE_CALL = 0x85;
/** How far back a register jump looks for the constant that set an operand. */
const SCAN_BACK = 8;

/**
 * The constant register `reg` holds at instruction `at`, when one of the few
 * instructions before it set it with `mov K` (ALU or ALU64) or `lddw` (plain
 * constant, not a map or other pseudo source) and nothing wrote it since.
 */
function constantIn(insns: readonly HintInsn[], at: number, reg: number): number | undefined {
  for (let i = at - 1; i >= 0 && i >= at - SCAN_BACK; i--) {
    const insn = insns[i] as HintInsn;
    const cls = insn.code & 0x07;
    if (insn.code === OPCODE_CALL) {
      if (reg <= 5) return undefined; // r0..r5 clobbered by a call
      continue;
    }
    if (insn.dst !== reg) continue;
    if (insn.code === 0xb7 || insn.code === 0xb4) return insn.imm; // mov dst, K (ALU64 / ALU)
    if (insn.code === OPCODE_LDDW) return insn.src === 0 && (insn.next?.imm ?? 0) === 0 ? insn.imm >>> 0 : undefined;
    if (cls === 0x00 || cls === 0x01 || cls === 0x04 || cls === 0x07) return undefined; // any other write
  }
  return undefined;
}

/** No hints at all. */
export function emptyHints(): BranchHints {
  return { values16: [], values8: [], values32: [] };
}

/** Collects values into the three buckets, then yields sorted, duplicate-free hints. */
class HintSet {
  private readonly v8 = new Set<number>();
  private readonly v16 = new Set<number>();
  private readonly v32 = new Set<number>();

  /** Record one constant (any integer; taken as unsigned 32 bits) and its byte-swapped forms. */
  add(value: number): void {
    const v = value >>> 0;
    this.v32.add(v);
    this.v32.add(swap32(v));
    if (v <= 0xffff) {
      this.v16.add(v);
      this.v16.add(swap16(v));
    }
    if (v <= 0xff) this.v8.add(v);
  }

  result(): BranchHints {
    const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);
    return { values16: sorted(this.v16), values8: sorted(this.v8), values32: sorted(this.v32) };
  }
}

/**
 * The constants of every conditional jump with an immediate operand in `insns`
 * (both 64-bit JMP and 32-bit JMP32), and of register jumps whose operand a
 * nearby `mov K`/`lddw` set, bucketed by width, with byte-swapped forms and, for
 * ordering comparisons, the values either side of the boundary.
 */
export function hintsFromInsns(insns: readonly HintInsn[]): BranchHints {
  const set = new HintSet();
  const addCompared = (value: number, code: number): void => {
    set.add(value);
    if (ORDERING_OPS.has(code & 0xf0)) {
      set.add(value + 1);
      set.add(value - 1);
    }
  };
  insns.forEach((insn, i) => {
    if (isConditionalJumpK(insn.code)) addCompared(insn.imm | 0, insn.code);
    else if (isConditionalJumpX(insn.code)) {
      for (const reg of [insn.dst, insn.src]) {
        const c = constantIn(insns, i, reg);
        if (c !== undefined) addCompared(c, insn.code);
      }
    }
  });
  return set.result();
}

/** The union of several hint sets; values are normalised to their bucket's width. */
export function mergeHints(...all: readonly Partial<BranchHints>[]): BranchHints {
  const v8 = new Set<number>();
  const v16 = new Set<number>();
  const v32 = new Set<number>();
  for (const h of all) {
    for (const v of h.values8 ?? []) v8.add(v & 0xff);
    for (const v of h.values16 ?? []) v16.add(v & 0xffff);
    for (const v of h.values32 ?? []) v32.add(v >>> 0);
  }
  const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);
  return { values16: sorted(v16), values8: sorted(v8), values32: sorted(v32) };
}

/**
 * The JIT's optimisations, each one switchable (`offload jit --no-opt NAME`) and
 * each reading only the verifier's facts in the instruction records — the NFP
 * driver's own (jit.c `nfp_bpf_opt_reg_init`, `nfp_bpf_opt_neg_add_sub`,
 * `nfp_bpf_opt_ld_mask`, `nfp_bpf_opt_ld_shift`, `nfp_bpf_opt_pkt_cache`; the
 * verifier hooks that remove dead code and skip zero-extension) and this project's
 * 32-bit narrowing. They act where the lowerings decide what to emit:
 *
 *   reg-init     a copy of the context pointer (`r6 = r1`) emits nothing: the card's
 *                context is registers 22–25, never a value
 *   neg-add-sub  add/sub of a negative constant becomes sub/add of its magnitude, so
 *                the constant fits the operand field (no `immed`)
 *   ld-mask      `&= mask` that keeps every bit the value can have (umax < 2^k for a
 *                mask of k low ones) emits nothing
 *   ld-shift     `<<= 32; >>= 32` (clang's zero-extension idiom) of a value whose high
 *                half is already zero emits nothing
 *   gather       a chain of byte/half/word copies inside the packet (a memcpy) is one
 *                read and one write per 8 bytes, up to 128 bytes (nfp/gather.ts)
 *   pkt-cache    packet loads through one pointer in straight-line code read one window
 *                (up to 64 bytes) once and extract from it (nfp/pkt-cache.ts)
 *   dead-code    instructions the verifier never reached emit nothing, and a jump it
 *                never took (or always took) loses its compare
 *   zext         a 32-bit operation or narrow load leaves the high word alone when
 *                nothing reads it before it is written whole (nfp/high-liveness.ts);
 *                so does a 64-bit operation whose low word needs only low words
 *   narrow32     64-bit operations and compares on values the verifier proves fit in
 *                32 bits (pointers are 32-bit addresses on the card) use the low word only
 *   fuse-mov     `rX = rY; rX op= s` (add, sub, and, or, xor, a constant shift: a pointer
 *                plus an offset, a copy masked or shifted) is one operation reading rY
 *                (nfp/skip-insns.ts); its
 *                code is attributed to the move
 *   const-exit   when r0 is one constant at every exit of the program, each exit sets
 *                the action code itself and the shared outro is left out (hXDP's
 *                "parametrised exit"; the NFP always branches to its outro)
 *   outro-range  when the verifier bounds r0 at every exit to [1, 2] (drop or pass) the
 *                outro is 0x44 >> r0, 2 instructions; to [0, 3], the table without
 *                the range check and the abort path, 6; else the NFP's 10 (nfp/outro.ts)
 *   ld-combine   packet bytes loaded one by one and joined with shifts and ORs (clang's
 *                unaligned field) are one load of the field (nfp/ld-combine.ts)
 *   st-combine   packet stores of bytes that together write one field (of constants, or
 *                of one register's bytes in order) are one store (nfp/st-combine.ts)
 *   const-src    a register the verifier proves constant at an instruction is its
 *                immediate: ALU, compare, store (`st`), an atomic add's value (nfp/const-src.ts)
 *   dead-def     an ALU operation, load or lddw whose register nobody reads before it
 *                is written again emits nothing (nfp/dead-def.ts)
 *   compact      after emission: the nops of a local-memory pointer's write delay that
 *                the following instructions can fill, and a branch to the next
 *                instruction, are removed (nfp/compact.ts)
 */
import type { EmitCtx, JitRegFacts } from './emit.js';

export const PASSES = ['reg-init', 'neg-add-sub', 'ld-mask', 'ld-shift', 'gather', 'pkt-cache', 'dead-code', 'zext', 'narrow32', 'const-exit', 'outro-range', 'fuse-mov', 'compact', 'ld-combine', 'const-src', 'dead-def', 'st-combine'] as const;
export type PassName = (typeof PASSES)[number];

export const isPassName = (s: string): s is PassName => (PASSES as readonly string[]).includes(s);

export const enabled = (ctx: EmitCtx, p: PassName): boolean => ctx.opts.passes.has(p);

/** Pointer types: on the card a 32-bit address (CTM, LM, EMEM) or a table id, its high word always 0. */
const POINTERS = new Set(['ctx', 'pkt', 'pkt_end', 'pkt_meta', 'fp', 'map_value', 'map_value_or_null', 'map_ptr']);
/** Every card address is below this (EMEM is the largest region, at most 1 GiB). */
export const POINTER_MAX = 1n << 30n;

type Reads = readonly (JitRegFacts | undefined)[] | undefined;

/** The most a register can hold (as an unsigned 64-bit value), where the verifier bounds it on every path. */
export function maxOf(reads: Reads, reg: number): bigint | undefined {
  const f = reads?.[reg];
  if (!f || f.types.size === 0) return undefined;
  if ([...f.types].every((t) => POINTERS.has(t))) return POINTER_MAX;
  if (f.types.size === 1 && f.types.has('scalar') && f.umax !== undefined) return f.umax;
  return undefined;
}

export function minOf(reads: Reads, reg: number): bigint | undefined {
  const f = reads?.[reg];
  return f && f.types.size === 1 && f.types.has('scalar') ? f.umin : undefined;
}

/** Is the register's high word 0 on every path (a pointer, or a scalar below 2^32)? */
export function highZero(reads: Reads, reg: number): boolean {
  const m = maxOf(reads, reg);
  return m !== undefined && m < 1n << 32n;
}

/** Is the register a pointer on every path? */
export function isPointer(reads: Reads, reg: number): boolean {
  const f = reads?.[reg];
  return !!f && f.types.size > 0 && [...f.types].every((t) => POINTERS.has(t));
}

/** A stack pointer on every path, r10 + off with off known: the LM address stays ≥ 0 minus at most 512 + off. */
function stackRoom(reads: Reads, reg: number): bigint | undefined {
  const f = reads?.[reg];
  if (!f || f.types.size !== 1 || !f.types.has('fp') || f.offMin === undefined) return undefined;
  return BigInt(512 + f.offMin);
}

/** An ALU operand: a register, or a constant sign-extended to 64 bits. */
export type Operand = { readonly reg: number } | { readonly imm: number };

/**
 * narrow32 for a 64-bit `op` on d and s: the result's high word is 0, like d's already is, so the
 * high-word instruction can go. and/or/xor of two such values; add when the sum stays below 2^32;
 * sub of scalars that cannot go negative, or of a constant from a stack pointer with room below it.
 */
export function narrowAlu(reads: Reads, op: string, d: number, s: Operand): boolean {
  if (!highZero(reads, d)) return false;
  const sMax = 'reg' in s ? maxOf(reads, s.reg) : s.imm >= 0 ? BigInt(s.imm) : undefined;
  if (sMax === undefined || sMax >= 1n << 32n) return false;
  switch (op) {
    case 'and': case 'or': case 'xor': return true;
    case 'add': return maxOf(reads, d)! + sMax < 1n << 32n;
    case 'sub': {
      if (isPointer(reads, d)) return 'imm' in s && (stackRoom(reads, d) ?? -1n) >= sMax;
      return (minOf(reads, d) ?? -1n) >= sMax;
    }
    default: return false;
  }
}

const SIGNED: ReadonlySet<string> = new Set(['jsgt', 'jsge', 'jslt', 'jsle']);

/** narrow32 for a 64-bit compare: both sides' high words 0 (both below 2^31 for a signed one). */
export function narrowCompare(reads: Reads, op: string, d: number, s: Operand): boolean {
  const limit = SIGNED.has(op) ? 1n << 31n : 1n << 32n;
  const below = (reg: number) => {
    const m = maxOf(reads, reg);
    return m !== undefined && m < limit;
  };
  return below(d) && ('reg' in s ? below(s.reg) : s.imm >= 0 && BigInt(s.imm) < limit);
}

/** The effective operation of an add/sub of a constant after neg-add-sub (x + −c is x − c). */
export function negAddSub(op: string, imm: number): { op: string; imm: number } | undefined {
  if ((op !== 'add' && op !== 'sub') || imm >= 0 || imm === -0x80000000) return undefined;
  return { op: op === 'add' ? 'sub' : 'add', imm: -imm };
}

/**
 * A linked program prepared for execution: instruction fields in flat arrays
 * indexed by slot (so jump targets are slot arithmetic), `lddw` constants
 * resolved against the running map set (a map reference becomes the pointer
 * pair of its handle or value region), and the function boundaries that
 * bpf-to-bpf calls enter. Both host engines start from this.
 */
import type { Insn } from '../isa/insn.js';
import { kindOf, type InsnKind } from '../isa/kind.js';
import { LddwSrc } from '../isa/opcodes.js';
import type { Program } from '../object/bpf-object.js';

/** Where lddw map references point, supplied by whoever owns the maps. */
export interface MapResolver {
  /** Region id of map `index`'s handle (what `lddw rX, map` yields). */
  handle(index: number): number;
  /** Pointer (region id, offset) to byte 0 of the single value of global-data map `index`. */
  value(index: number): { region: number; offset: number };
}

export interface ExecProgram {
  readonly name: string;
  /** Number of slots. */
  readonly length: number;
  readonly code: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
  /** lddw: the resolved 64-bit constant's high word (imm holds the low word). */
  readonly imm2: Int32Array;
  /** Decoded meaning per slot (undefined for lddw second halves). */
  readonly kinds: readonly (InsnKind | undefined)[];
  /** First slot of every function, the entry first. */
  readonly funcStarts: readonly number[];
  /** For an `lddw` of a map (BPF_PSEUDO_MAP_IDX/FD): the map's index; -1 elsewhere. */
  readonly mapOf: Int32Array;
  /** Names of the kernel functions a kfunc call's imm indexes (Program.kfuncs). */
  readonly kfuncs: readonly string[];
}

/**
 * Every decoded kind with the same set of fields, in the same order: the interpreter reads them
 * in its inner loop, and one object shape keeps those reads monomorphic (fast) in V8.
 */
function uniformKind(k: InsnKind, dst: number, src: number): InsnKind {
  const bad = k.k !== 'invalid' && (dst > 10 || src > 10);
  const base = {
    k: bad ? 'invalid' : k.k, width: 64, op: '', useReg: false, fromBits: 0, order: '', bits: 0, long: false,
    target: '', pseudo: 0, indirect: false, size: 0, signed: false, fetch: false,
    reason: bad ? `register r${Math.max(dst, src)} does not exist` : '',
  };
  return (bad ? base : Object.assign(base, k)) as unknown as InsnKind;
}

export class PrepareError extends Error {
  constructor(message: string, readonly slot: number) {
    super(`insn ${slot}: ${message}`);
    this.name = 'PrepareError';
  }
}

export function prepareProgram(
  program: Pick<Program, 'name' | 'insns' | 'slots' | 'funcs'> & Partial<Pick<Program, 'kfuncs'>>, maps: MapResolver,
): ExecProgram {
  const last = program.insns.length - 1;
  const length = last < 0 ? 0 : program.slots[last]! + (program.insns[last]!.next ? 2 : 1);
  const p = {
    name: program.name,
    length,
    code: new Uint8Array(length),
    dst: new Uint8Array(length),
    src: new Uint8Array(length),
    off: new Int16Array(length),
    imm: new Int32Array(length),
    imm2: new Int32Array(length),
    kinds: new Array<InsnKind | undefined>(length).fill(undefined),
    funcStarts: program.funcs.map((f) => f.slot),
    mapOf: new Int32Array(length).fill(-1),
    kfuncs: (program.kfuncs ?? []).map((k) => k.name),
  };
  program.insns.forEach((insn: Insn, i) => {
    const s = program.slots[i]!;
    const kind = uniformKind(kindOf(insn), insn.dst, insn.src);
    p.code[s] = insn.code;
    p.dst[s] = insn.dst;
    p.src[s] = insn.src;
    p.off[s] = insn.off;
    p.imm[s] = insn.imm;
    p.kinds[s] = kind;
    if (kind.k === 'lddw') {
      const hi = insn.next?.imm ?? 0;
      switch (kind.pseudo) {
        case LddwSrc.IMM64:
          p.imm2[s] = hi;
          break;
        case LddwSrc.MAP_IDX:
        case LddwSrc.MAP_FD:
          p.mapOf[s] = insn.imm;
          p.imm[s] = 0;
          p.imm2[s] = maps.handle(insn.imm);
          break;
        case LddwSrc.MAP_IDX_VALUE:
        case LddwSrc.MAP_VALUE: {
          const v = maps.value(insn.imm);
          p.imm[s] = v.offset + hi;
          p.imm2[s] = v.region;
          break;
        }
        case LddwSrc.FUNC:
          // A function pointer: the target slot, only usable by callback helpers (none here).
          p.imm[s] = s + insn.imm + 1;
          p.imm2[s] = 0;
          break;
        default:
          throw new PrepareError(`lddw with source ${kind.pseudo} (a kernel BTF object) cannot run on the host`, s);
      }
    }
  });
  return p;
}

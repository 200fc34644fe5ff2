/**
 * What a loaded BPF object holds, as plain values: its programs (linked with
 * their bpf-to-bpf subprograms, map references rewritten to map indices) and
 * their maps, the source position of every instruction, and the programs of
 * other types that the object also contains.
 */
import type { Insn } from '../isa/insn.js';
import type { SectionType } from './section-types.js';

/** Where a map definition came from. */
export type MapOrigin = 'legacy' | 'btf' | 'global-data';

export interface MapDef {
  /** Index in `BpfObject.maps`; `lddw` map references carry it (src MAP_IDX / MAP_IDX_VALUE). */
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly numaNode?: number;
  readonly mapExtra?: number;
  /** 0 = not pinned, 1 = LIBBPF_PIN_BY_NAME. */
  readonly pinning: number;
  /** BTF type ids of key and value, where BTF says. */
  readonly keyTypeId?: number;
  readonly valueTypeId?: number;
  /** Template of the inner map of a map-in-map. */
  readonly inner?: Omit<MapDef, 'index' | 'origin' | 'section'>;
  /** Initial slots of a map-in-map or PROG_ARRAY (`.values = { [i] = &x }`): the map or program named. */
  readonly initialSlots?: readonly { readonly slot: number; readonly name: string }[];
  readonly origin: MapOrigin;
  /** ELF section the definition is in (`maps`, `.maps`, `.rodata`...). */
  readonly section: string;
  /** Initial contents of a global-data map (its single value). */
  readonly initialValue?: Uint8Array;
  /**
   * A global-data map's variables, from its BTF DATASEC with each variable's offset taken from its
   * symbol (clang leaves the DATASEC's offsets 0; libbpf fixes them the same way): the value shown and
   * read by name, as bpftool shows it.
   */
  readonly dataVars?: readonly { readonly varTypeId: number; readonly offset: number }[];
}

export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The C source text of the line, as clang recorded it in BTF. */
  readonly text: string;
}

export interface FuncInfo {
  readonly name: string;
  /** Index into `Program.insns` of the first instruction. */
  readonly start: number;
  /** Slot of the first instruction (what jump offsets, BTF and the kernel count). */
  readonly slot: number;
  /** Section the function came from. */
  readonly section: string;
  readonly btfTypeId?: number;
}

/** An extern kernel function (`extern ... __ksym`) a program calls; its calls carry the index (src KFUNC). */
export interface KfuncRef {
  readonly name: string;
  /** Declared `__weak`: a kernel without it resolves the call to id 0 instead of refusing the object. */
  readonly weak: boolean;
}

export interface Program {
  readonly name: string;
  readonly section: string;
  readonly type: SectionType;
  /** Linked instructions: the program's body, then each subprogram it calls. */
  readonly insns: readonly Insn[];
  /** Slot of each instruction (lddw takes two slots). */
  readonly slots: readonly number[];
  /** Functions in the linked program, the entry first. */
  readonly funcs: readonly FuncInfo[];
  /** Source position of each instruction where BTF line info has one (index = instruction index). */
  readonly lines: readonly (SourcePosition | undefined)[];
  /** Byte offset of the program inside its ELF section. */
  readonly sectionOffset: number;
  /**
   * Kernel functions the program calls: a kfunc call instruction (src CallSrc.KFUNC) holds the index
   * into this list in imm, as map references hold map indices; the kernel loader puts BTF ids there.
   */
  readonly kfuncs?: readonly KfuncRef[];
  /** The entry function is a static (STB_LOCAL) symbol, as cilium's tail-call programs are. */
  readonly static?: boolean;
}

/** A program of another type found in the object: named so that a refusal can say what it is. */
export interface ForeignProgram {
  readonly name: string;
  readonly section: string;
  readonly progType: string;
}

export interface BpfObject {
  readonly file: string;
  readonly littleEndian: boolean;
  readonly license?: string;
  readonly kernelVersion?: number;
  readonly programs: readonly Program[];
  readonly foreign: readonly ForeignProgram[];
  readonly maps: readonly MapDef[];
  /** Does the object carry BTF (types) and BTF.ext (line info)? */
  readonly hasBtf: boolean;
  readonly hasLineInfo: boolean;
}

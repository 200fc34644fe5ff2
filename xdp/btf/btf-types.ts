/**
 * The BTF type model as plain typed values.
 *
 * Encoding facts from include/uapi/linux/btf.h and Documentation/bpf/btf.rst
 * (torvalds/linux); see docs/btf.md. Every type record starts with
 * `struct btf_type { u32 name_off; u32 info; u32 size_or_type; }` where
 * info = vlen (bits 0-15) | kind (bits 24-28) | kind_flag (bit 31), followed by
 * kind-specific data.
 */

/** Kind numbers, in the order of the kernel's BTF_KIND_* enum. */
export const BTF_KIND = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export type BtfKindName = Exclude<keyof typeof BTF_KIND, 'UNKN'>;

/** Kind number → name, for the kinds this parser knows (index = kind number). */
export const BTF_KIND_NAMES: readonly (BtfKindName | undefined)[] = (() => {
  const names: (BtfKindName | undefined)[] = [];
  for (const [name, num] of Object.entries(BTF_KIND)) {
    if (name !== 'UNKN') names[num] = name as BtfKindName;
  }
  return names;
})();

/**
 * Bytes of kind-specific data after the 12-byte btf_type header:
 * `fixed` bytes always, plus `perVlen` bytes for each of vlen entries.
 */
export const BTF_KIND_LAYOUT: Readonly<Record<BtfKindName, { fixed: number; perVlen: number }>> = {
  INT: { fixed: 4, perVlen: 0 },
  PTR: { fixed: 0, perVlen: 0 },
  ARRAY: { fixed: 12, perVlen: 0 },
  STRUCT: { fixed: 0, perVlen: 12 },
  UNION: { fixed: 0, perVlen: 12 },
  ENUM: { fixed: 0, perVlen: 8 },
  FWD: { fixed: 0, perVlen: 0 },
  TYPEDEF: { fixed: 0, perVlen: 0 },
  VOLATILE: { fixed: 0, perVlen: 0 },
  CONST: { fixed: 0, perVlen: 0 },
  RESTRICT: { fixed: 0, perVlen: 0 },
  FUNC: { fixed: 0, perVlen: 0 }, // vlen holds the linkage, not a count
  FUNC_PROTO: { fixed: 0, perVlen: 8 },
  VAR: { fixed: 4, perVlen: 0 },
  DATASEC: { fixed: 0, perVlen: 12 },
  FLOAT: { fixed: 0, perVlen: 0 },
  DECL_TAG: { fixed: 4, perVlen: 0 },
  TYPE_TAG: { fixed: 0, perVlen: 0 },
  ENUM64: { fixed: 0, perVlen: 12 },
};

/** Size of `struct btf_type`. */
export const BTF_TYPE_HEADER_SIZE = 12;
export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
/** Size of `struct btf_header` (the smallest valid hdr_len). */
export const BTF_HEADER_SIZE = 24;

/** INT encoding bits (BTF_INT_SIGNED / CHAR / BOOL). */
export const BTF_INT_ENCODING = { SIGNED: 1, CHAR: 2, BOOL: 4 } as const;

/** Linkage of FUNC (stored in vlen) and VAR (btf_var.linkage): same numbering. */
export const BTF_LINKAGE_NAMES = ['static', 'global', 'extern'] as const;
export type BtfLinkage = (typeof BTF_LINKAGE_NAMES)[number];

/** Fields every type record has. */
interface BtfTypeBase {
  /** Type id: 1-based position in the type section (0 is void). */
  readonly id: number;
  /** Resolved name ("" when anonymous). */
  readonly name: string;
  /** Raw name_off (0 means anonymous). */
  readonly nameOff: number;
  /** Byte offset of the btf_type record inside the .BTF section. */
  readonly offset: number;
}

export interface BtfVoid {
  readonly kind: 'VOID';
  readonly id: 0;
  readonly name: '';
  readonly nameOff: 0;
  readonly offset: -1;
}

export interface BtfInt extends BtfTypeBase {
  readonly kind: 'INT';
  readonly size: number;
  /** Raw 4-bit encoding (BTF_INT_SIGNED | BTF_INT_CHAR | BTF_INT_BOOL). */
  readonly encoding: number;
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
  /** BTF_INT_OFFSET: bit offset of the value inside the storage. */
  readonly bitOffset: number;
  /** BTF_INT_BITS: number of value bits. */
  readonly bits: number;
}

/** Kinds that are a name plus a referenced type and nothing else. */
export interface BtfRefType extends BtfTypeBase {
  readonly kind: 'PTR' | 'TYPEDEF' | 'VOLATILE' | 'CONST' | 'RESTRICT' | 'TYPE_TAG';
  readonly type: number;
}

export interface BtfArray extends BtfTypeBase {
  readonly kind: 'ARRAY';
  /** Element type. */
  readonly type: number;
  readonly indexType: number;
  readonly nelems: number;
}

export interface BtfMember {
  readonly name: string;
  readonly nameOff: number;
  readonly type: number;
  /** Bit offset from the start of the struct. */
  readonly bitOffset: number;
  /** Bitfield width in bits, 0 when not a bitfield (always 0 unless kind_flag is set). */
  readonly bitfieldSize: number;
}

export interface BtfComposite extends BtfTypeBase {
  readonly kind: 'STRUCT' | 'UNION';
  readonly size: number;
  /** kind_flag: member offsets carry a bitfield size in their top 8 bits. */
  readonly kindFlag: boolean;
  readonly members: readonly BtfMember[];
}

export interface BtfEnum extends BtfTypeBase {
  readonly kind: 'ENUM';
  readonly size: number;
  /** kind_flag: values are signed. */
  readonly signed: boolean;
  /** Values as the 32-bit field reads: signed or unsigned according to `signed`. */
  readonly values: readonly { readonly name: string; readonly nameOff: number; readonly value: number }[];
}

export interface BtfEnum64 extends BtfTypeBase {
  readonly kind: 'ENUM64';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly { readonly name: string; readonly nameOff: number; readonly value: bigint }[];
}

export interface BtfFwd extends BtfTypeBase {
  readonly kind: 'FWD';
  /** kind_flag 0 = struct, 1 = union. */
  readonly fwdKind: 'struct' | 'union';
}

export interface BtfFunc extends BtfTypeBase {
  readonly kind: 'FUNC';
  /** The FUNC_PROTO. */
  readonly type: number;
  readonly linkage: BtfLinkage;
}

export interface BtfParam {
  readonly name: string;
  readonly nameOff: number;
  /** 0 (with no name) on the last parameter means `...`. */
  readonly type: number;
}

export interface BtfFuncProto extends BtfTypeBase {
  readonly kind: 'FUNC_PROTO';
  /** Return type (0 = void). */
  readonly ret: number;
  readonly params: readonly BtfParam[];
}

export interface BtfVar extends BtfTypeBase {
  readonly kind: 'VAR';
  readonly type: number;
  readonly linkage: BtfLinkage;
}

export interface BtfVarSecinfo {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

export interface BtfDatasec extends BtfTypeBase {
  readonly kind: 'DATASEC';
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}

export interface BtfFloat extends BtfTypeBase {
  readonly kind: 'FLOAT';
  readonly size: number;
}

export interface BtfDeclTag extends BtfTypeBase {
  readonly kind: 'DECL_TAG';
  /** Tagged type (struct/union/var/func/typedef). */
  readonly type: number;
  /** -1: the tag applies to the type itself; otherwise the member / parameter index. */
  readonly componentIdx: number;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfRefType
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

export type BtfKind = BtfType['kind'];

export interface BtfHeader {
  readonly magic: number;
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
}

/** A parsed .BTF section. */
export interface Btf {
  /** File the section came from (for error messages). */
  readonly file?: string;
  readonly littleEndian: boolean;
  readonly header: BtfHeader;
  /** types[id]; types[0] is void. */
  readonly types: readonly BtfType[];
  /** The string section's bytes (every string NUL terminated, offset 0 is ""). */
  readonly strings: Uint8Array;
}

/** The void type (id 0). */
export const BTF_VOID: BtfVoid = { kind: 'VOID', id: 0, name: '', nameOff: 0, offset: -1 };

/** Kinds that only qualify or rename another type (skipped by resolveType). */
export const BTF_MODIFIER_KINDS: ReadonlySet<BtfKind> = new Set<BtfKind>([
  'TYPEDEF',
  'VOLATILE',
  'CONST',
  'RESTRICT',
  'TYPE_TAG',
]);

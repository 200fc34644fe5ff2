/**
 * Lookups over a parsed Btf that the loader needs: a type by id, the type under
 * modifiers, sizes, data sections, variables and members. Every walk carries a
 * cycle guard, so malformed BTF whose references loop fails with an
 * ObjectFormatError instead of hanging.
 */

import { ObjectFormatError } from '../errors.js';
import {
  BTF_MODIFIER_KINDS,
  type Btf,
  type BtfComposite,
  type BtfDatasec,
  type BtfKind,
  type BtfMember,
  type BtfType,
  type BtfVar,
} from './btf-types.js';
import { BTF_SECTION } from './btf-parse.js';

/** Largest object size BTF can describe (sizes are u32 in the format). */
const MAX_BTF_SIZE = 0xffffffff;

/** An ObjectFormatError located at a type's record in .BTF. */
export function btfError(btf: Btf, message: string, offset?: number): ObjectFormatError {
  return new ObjectFormatError(message, {
    ...(btf.file !== undefined ? { file: btf.file } : {}),
    section: BTF_SECTION,
    ...(offset !== undefined && offset >= 0 ? { offset } : {}),
  });
}

/** The type with this id; throws when the id is not in the table. */
export function typeById(btf: Btf, id: number): BtfType {
  const t = Number.isInteger(id) ? btf.types[id] : undefined;
  if (t === undefined) {
    throw btfError(btf, `type id ${id} is out of range: expected 0..${btf.types.length - 1}`);
  }
  return t;
}

/**
 * Skip typedef/const/volatile/restrict/type_tag from `id` and return the first
 * other type (void when the chain ends at 0). A chain that loops is an error.
 */
export function resolveType(btf: Btf, id: number): BtfType {
  const seen = new Set<number>();
  let t = typeById(btf, id);
  while (BTF_MODIFIER_KINDS.has(t.kind)) {
    if (seen.has(t.id)) throw btfError(btf, `type [${t.id}] ${t.kind} is part of a reference cycle`, t.offset);
    seen.add(t.id);
    t = typeById(btf, (t as { type: number }).type);
  }
  return t;
}

/** Id of the type resolveType would return. */
export function resolveTypeId(btf: Btf, id: number): number {
  return resolveType(btf, id).id;
}

/**
 * Size in bytes of a value of type `id`: INT/ENUM/ENUM64/FLOAT/STRUCT/UNION/DATASEC
 * by their size field, PTR 8, ARRAY nelems × element, VAR and modifiers by what
 * they name. FWD, FUNC, FUNC_PROTO, DECL_TAG and void have no size (error).
 */
export function sizeOf(btf: Btf, id: number): number {
  const seen = new Set<number>();
  let multiplier = 1;
  let t = typeById(btf, id);
  for (;;) {
    switch (t.kind) {
      case 'INT':
      case 'ENUM':
      case 'ENUM64':
      case 'FLOAT':
      case 'STRUCT':
      case 'UNION':
      case 'DATASEC':
        return checkedSize(btf, t, multiplier * t.size);
      case 'PTR':
        return checkedSize(btf, t, multiplier * 8);
      case 'ARRAY':
        multiplier *= t.nelems;
        break;
      case 'VAR':
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
      case 'RESTRICT':
      case 'TYPE_TAG':
        break;
      case 'VOID':
      case 'FWD':
      case 'FUNC':
      case 'FUNC_PROTO':
      case 'DECL_TAG':
        throw btfError(
          btf,
          `type [${t.id}] ${t.kind}${t.name ? ` '${t.name}'` : ''} has no size${id !== t.id ? ` (asked for type [${id}])` : ''}`,
          t.offset,
        );
    }
    if (seen.has(t.id)) throw btfError(btf, `type [${t.id}] ${t.kind} is part of a reference cycle`, t.offset);
    seen.add(t.id);
    t = typeById(btf, t.type);
  }
}

function checkedSize(btf: Btf, t: BtfType, size: number): number {
  if (size > MAX_BTF_SIZE) {
    throw btfError(btf, `type [${t.id}] ${t.kind}: size ${size} does not fit in 32 bits`, t.offset);
  }
  return size;
}

/** All types of a kind, in id order. */
export function typesOfKind<K extends BtfKind>(btf: Btf, kind: K): Extract<BtfType, { kind: K }>[] {
  return btf.types.filter((t): t is Extract<BtfType, { kind: K }> => t.kind === kind);
}

/** The DATASEC named `name` (".maps", ".rodata", ...), if any. */
export function findDatasec(btf: Btf, name: string): BtfDatasec | undefined {
  return btf.types.find((t): t is BtfDatasec => t.kind === 'DATASEC' && t.name === name);
}

export interface FoundVar {
  readonly var: BtfVar;
  /** The DATASEC that lists the variable, with the variable's entry there. */
  readonly datasec?: BtfDatasec;
  readonly offset?: number;
  readonly size?: number;
}

/**
 * The VAR named `name`; when `datasec` is given only variables listed in that
 * section are considered. Note that clang leaves DATASEC sizes and offsets at 0
 * in relocatable objects (libbpf fills them from the symbol table at load).
 */
export function findVar(btf: Btf, name: string, datasec?: string): FoundVar | undefined {
  for (const sec of typesOfKind(btf, 'DATASEC')) {
    if (datasec !== undefined && sec.name !== datasec) continue;
    for (const entry of sec.vars) {
      const v = btf.types[entry.type];
      if (v?.kind === 'VAR' && v.name === name) {
        return { var: v, datasec: sec, offset: entry.offset, size: entry.size };
      }
    }
  }
  if (datasec !== undefined) return undefined;
  const v = btf.types.find((t): t is BtfVar => t.kind === 'VAR' && t.name === name);
  return v ? { var: v } : undefined;
}

export interface FoundMember {
  readonly member: BtfMember;
  /** Index in the struct/union that holds it directly. */
  readonly index: number;
  /** Bit offset from the start of the outermost struct (anonymous members flattened). */
  readonly bitOffset: number;
  /** The struct/union that holds the member directly. */
  readonly parent: BtfComposite;
}

/**
 * The member called `name` of the struct/union `id` (modifiers skipped),
 * looking inside anonymous struct/union members as C does. Undefined when there
 * is no such member; an error when `id` is not a struct or union.
 */
export function memberByName(btf: Btf, id: number, name: string): FoundMember | undefined {
  const outer = resolveType(btf, id);
  if (outer.kind !== 'STRUCT' && outer.kind !== 'UNION') {
    throw btfError(btf, `type [${id}] is ${outer.kind}, expected STRUCT or UNION to look up member '${name}'`, outer.offset);
  }
  const visiting = new Set<number>();
  const search = (s: BtfComposite, base: number): FoundMember | undefined => {
    if (visiting.has(s.id)) throw btfError(btf, `type [${s.id}] ${s.kind} contains itself`, s.offset);
    visiting.add(s.id);
    for (let i = 0; i < s.members.length; i++) {
      const m = s.members[i]!;
      if (m.name === name) return { member: m, index: i, bitOffset: base + m.bitOffset, parent: s };
    }
    for (const m of s.members) {
      if (m.name !== '') continue;
      const inner = resolveType(btf, m.type);
      if (inner.kind === 'STRUCT' || inner.kind === 'UNION') {
        const found = search(inner, base + m.bitOffset);
        if (found) return found;
      }
    }
    visiting.delete(s.id);
    return undefined;
  };
  return search(outer, 0);
}

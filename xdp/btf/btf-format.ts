/**
 * Rendering BTF types as text: C declarations (`struct flow_key`, `char[16]`,
 * `int (*)[2]`, `int xdp_prog(struct xdp_md * ctx)`), and the raw dump that
 * `bpftool btf dump file X format raw` prints, line for line.
 */

import type { Btf, BtfType } from './btf-types.js';
import { btfError, typeById } from './btf-resolve.js';

/** Longest C rendering produced; beyond it the BTF is taken to be hostile. */
const MAX_RENDER_LENGTH = 1 << 16;

// ---------------------------------------------------------------- raw dump

/** bpftool's names for INT encodings. */
const INT_ENCODING_NAMES: Readonly<Record<number, string>> = { 0: '(none)', 1: 'SIGNED', 2: 'CHAR', 4: 'BOOL' };

function rawName(t: { nameOff: number; name: string }): string {
  return t.nameOff === 0 ? '(anon)' : t.name;
}

/** Kind name as bpftool prints it. */
function rawKind(t: BtfType): string {
  return t.kind === 'VOID' ? 'UNKNOWN' : t.kind;
}

/** One type as `bpftool btf dump ... format raw` prints it (may span lines; no final newline). */
export function formatRawType(btf: Btf, id: number): string {
  const t = typeById(btf, id);
  const head = `[${id}] ${rawKind(t)} '${rawName(t)}'`;
  switch (t.kind) {
    case 'VOID':
      return head;
    case 'INT':
      return `${head} size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${INT_ENCODING_NAMES[t.encoding] ?? 'UNKN'}`;
    case 'PTR':
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT':
    case 'TYPEDEF':
    case 'TYPE_TAG':
      return `${head} type_id=${t.type}`;
    case 'ARRAY':
      return `${head} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case 'STRUCT':
    case 'UNION':
      return [
        `${head} size=${t.size} vlen=${t.members.length}`,
        ...t.members.map(
          (m) =>
            `\t'${rawName(m)}' type_id=${m.type} bits_offset=${m.bitOffset}` +
            (m.bitfieldSize ? ` bitfield_size=${m.bitfieldSize}` : ''),
        ),
      ].join('\n');
    case 'ENUM':
    case 'ENUM64': {
      const suffix = t.kind === 'ENUM64' ? (t.signed ? 'LL' : 'ULL') : '';
      return [
        `${head} encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`,
        ...t.values.map((v) => `\t'${rawName(v)}' val=${v.value}${suffix}`),
      ].join('\n');
    }
    case 'FWD':
      return `${head} fwd_kind=${t.fwdKind}`;
    case 'FUNC':
      return `${head} type_id=${t.type} linkage=${t.linkage}`;
    case 'FUNC_PROTO':
      return [
        `${head} ret_type_id=${t.ret} vlen=${t.params.length}`,
        ...t.params.map((p) => `\t'${rawName(p)}' type_id=${p.type}`),
      ].join('\n');
    case 'VAR':
      return `${head} type_id=${t.type}, linkage=${t.linkage}`;
    case 'DATASEC':
      return [
        `${head} size=${t.size} vlen=${t.vars.length}`,
        ...t.vars.map((v) => {
          const vt = btf.types[v.type];
          const target = vt ? ` (${rawKind(vt)} '${rawName(vt)}')` : '';
          return `\ttype_id=${v.type} offset=${v.offset} size=${v.size}${target}`;
        }),
      ].join('\n');
    case 'FLOAT':
      return `${head} size=${t.size}`;
    case 'DECL_TAG':
      return `${head} type_id=${t.type} component_idx=${t.componentIdx}`;
  }
}

/** Every type from id 1 on, as `bpftool btf dump file X format raw` prints them. */
export function formatBtfRaw(btf: Btf): string {
  let out = '';
  for (let id = 1; id < btf.types.length; id++) out += formatRawType(btf, id) + '\n';
  return out;
}

// ---------------------------------------------------------------- C syntax

interface RenderState {
  readonly btf: Btf;
  /** Types on the current rendering path (a revisit is a reference cycle). */
  readonly path: Set<number>;
  /** formatType results already computed in this call. */
  readonly memo: Map<number, string>;
}

function checkLength(st: RenderState, s: string, t: BtfType): string {
  if (s.length > MAX_RENDER_LENGTH) {
    throw btfError(st.btf, `type [${t.id}] renders to more than ${MAX_RENDER_LENGTH} characters`, t.offset);
  }
  return s;
}

/** `base` followed by declarator `d` with C spacing. */
function joinDecl(quals: readonly string[], base: string, d: string): string {
  const head = [...quals, base].join(' ');
  if (d === '') return head;
  return d.startsWith('[') ? head + d : `${head} ${d}`;
}

/** Parenthesise a pointer declarator before a suffix binds to it. */
function paren(d: string): string {
  return d.startsWith('*') ? `(${d})` : d;
}

function paramsText(st: RenderState, params: readonly { name: string; type: number }[]): string {
  return params
    .map((p, i) => {
      if (p.type === 0 && i === params.length - 1) return '...';
      const ty = abstractType(st, p.type);
      return p.name ? `${ty} ${p.name}` : ty;
    })
    .join(', ');
}

/** Declare `d` (a declarator: "", a name, "*", "(*)[2]", ...) of type `id`, under qualifiers `quals`. */
function declare(st: RenderState, id: number, d: string, quals: readonly string[]): string {
  const t = typeById(st.btf, id);
  if (st.path.has(id)) {
    throw btfError(st.btf, `type [${id}] ${t.kind} is part of a reference cycle`, t.offset);
  }
  st.path.add(id);
  try {
    return checkLength(st, declareKind(st, t, d, quals), t);
  } finally {
    st.path.delete(id);
  }
}

function declareKind(st: RenderState, t: BtfType, d: string, quals: readonly string[]): string {
  switch (t.kind) {
    case 'VOID':
      return joinDecl(quals, 'void', d);
    case 'INT':
    case 'FLOAT':
    case 'TYPEDEF':
      return joinDecl(quals, t.name || '(anon)', d);
    case 'STRUCT':
    case 'UNION':
      return joinDecl(quals, `${t.kind.toLowerCase()} ${t.name || '{...}'}`, d);
    case 'ENUM':
    case 'ENUM64':
      return joinDecl(quals, `enum ${t.name || '{...}'}`, d);
    case 'FWD':
      return joinDecl(quals, `${t.fwdKind} ${t.name || '(anon)'}`, d);
    case 'PTR': {
      const q = quals.length ? ` ${quals.join(' ')}${d ? ' ' : ''}` : '';
      return declare(st, t.type, `*${q}${d}`, []);
    }
    case 'CONST':
    case 'VOLATILE':
    case 'RESTRICT':
      return declare(st, t.type, d, [...quals, t.kind.toLowerCase()]);
    case 'TYPE_TAG':
      return declare(st, t.type, d, [...quals, `__attribute__((btf_type_tag("${t.name}")))`]);
    case 'ARRAY':
      return declare(st, t.type, `${paren(d)}[${t.nelems}]`, quals);
    case 'FUNC_PROTO':
      return declare(st, t.ret, `${paren(d)}(${paramsText(st, t.params)})`, quals);
    case 'FUNC':
      return declare(st, t.type, d || t.name, quals);
    case 'VAR': {
      const storage = t.linkage === 'global' ? [] : [t.linkage];
      return declare(st, t.type, d || t.name, [...storage, ...quals]);
    }
    case 'DATASEC':
      return joinDecl(quals, `SEC("${t.name}")`, d);
    case 'DECL_TAG':
      return joinDecl(quals, `__attribute__((btf_decl_tag("${t.name}")))`, d);
  }
}

function abstractType(st: RenderState, id: number): string {
  const known = st.memo.get(id);
  if (known !== undefined) return known;
  const t = typeById(st.btf, id);
  const s = t.kind === 'FUNC' ? signature(st, t.name, t.type) : declare(st, id, '', []);
  st.memo.set(id, s);
  return s;
}

/** `ret name(type param, ...)` with bpftool's spacing (`struct xdp_md * ctx`). */
function signature(st: RenderState, name: string, protoId: number): string {
  const proto = typeById(st.btf, protoId);
  if (proto.kind !== 'FUNC_PROTO') {
    throw btfError(st.btf, `function '${name}' has type [${protoId}] ${proto.kind}, expected FUNC_PROTO`, proto.offset);
  }
  if (st.path.has(protoId)) throw btfError(st.btf, `type [${protoId}] FUNC_PROTO is part of a reference cycle`, proto.offset);
  st.path.add(protoId);
  try {
    const ret = abstractType(st, proto.ret);
    return checkLength(st, `${ret} ${name}(${paramsText(st, proto.params)})`, proto);
  } finally {
    st.path.delete(protoId);
  }
}

function newState(btf: Btf): RenderState {
  return { btf, path: new Set(), memo: new Map() };
}

/**
 * Type `id` as a C type name: `unsigned int`, `__u32`, `struct flow_key`,
 * `char[16]`, `int (*)[2]`, `const volatile __u32`, `struct xdp_md *`.
 * A FUNC renders as its signature, a VAR as its declaration.
 */
export function formatType(btf: Btf, id: number): string {
  return abstractType(newState(btf), id);
}

/** A C declaration of `name` with type `id`: `char name[16]`, `int (*type)[2]`. */
export function formatDecl(btf: Btf, id: number, name: string): string {
  return declare(newState(btf), id, name, []);
}

/** A FUNC's prototype as bpftool prints it: `int xdp_prog(struct xdp_md * ctx)`. */
export function formatFuncSignature(btf: Btf, funcId: number): string {
  const f = typeById(btf, funcId);
  if (f.kind !== 'FUNC') throw btfError(btf, `type [${funcId}] is ${f.kind}, expected FUNC`, f.offset);
  return signature(newState(btf), f.name, f.type);
}

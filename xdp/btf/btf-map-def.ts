/**
 * BTF-defined maps: read libbpf's `.maps` convention from a map variable's
 * struct type.
 *
 *   struct {
 *     __uint(type, BPF_MAP_TYPE_HASH);     // int (*type)[BPF_MAP_TYPE_HASH]
 *     __uint(max_entries, 1024);           // int (*max_entries)[1024]
 *     __type(key, struct flow_key);        // struct flow_key *key
 *     __type(value, __u64);                // __u64 *value
 *     __array(values, struct inner);       // struct inner *values[]  (map-in-map)
 *   } name SEC(".maps");
 *
 * Integer attributes are pointers to arrays whose element count is the value;
 * key/value are pointers to the key/value type (its size is the key/value size);
 * `values` is a zero-length array of pointers to the inner map's definition
 * struct (or to a function prototype, for a program array).
 */

import type { Btf, BtfComposite, BtfDatasec, BtfMember } from './btf-types.js';
import { btfError, findDatasec, resolveType, sizeOf, typeById } from './btf-resolve.js';

export interface BtfMapDef {
  type?: number;
  keySize?: number;
  valueSize?: number;
  /** BTF id of the key type (as named by `key`, modifiers kept). */
  keyType?: number;
  /** BTF id of the value type (as named by `value`, modifiers kept). */
  valueType?: number;
  maxEntries?: number;
  flags?: number;
  numaNode?: number;
  mapExtra?: number;
  pinning?: number;
  /** Map-in-map: the inner map's definition from `__array(values, struct inner)`. */
  inner?: BtfMapDef;
  /** `values` pointed at a function prototype: a program array's initial slots. */
  progValues?: boolean;
}

/** Integer attributes encoded as `int (*name)[value]`, and the BtfMapDef field each sets. */
const INT_ATTRS = {
  type: 'type',
  max_entries: 'maxEntries',
  map_flags: 'flags',
  numa_node: 'numaNode',
  map_extra: 'mapExtra',
  pinning: 'pinning',
  key_size: 'keySize',
  value_size: 'valueSize',
} as const satisfies Record<string, keyof BtfMapDef>;

/** The value size libbpf implies for map-in-map and program arrays (an fd). */
const FD_VALUE_SIZE = 4;

/** Byte offset, inside .BTF, of member `index` of struct `s` (for error messages). */
function memberOffset(s: BtfComposite, index: number): number {
  return s.offset + 12 + index * 12;
}

/**
 * Read the map definition from `id`: the VAR in `.maps`, or its struct type.
 * `mapName` only labels error messages.
 */
export function readMapDef(btf: Btf, id: number, mapName?: string): BtfMapDef {
  const start = typeById(btf, id);
  const label = mapName ?? (start.kind === 'VAR' ? start.name : `type [${id}]`);
  return readDef(btf, start.kind === 'VAR' ? start.type : id, `map '${label}'`, false);
}

function readDef(btf: Btf, structId: number, label: string, isInner: boolean): BtfMapDef {
  const s = resolveType(btf, structId);
  if (s.kind !== 'STRUCT') {
    throw btfError(btf, `${label}: definition is ${s.kind}, expected STRUCT`, s.offset);
  }
  const def: BtfMapDef = {};
  /** Member index of each attribute seen, for conflict messages. */
  const seenAt = new Map<string, number>();
  s.members.forEach((m, index) => {
    const at = memberOffset(s, index);
    const fail: (expected: string) => never = (expected) => {
      throw btfError(btf, `${label}: member '${m.name}' ${expected}`, at);
    };
    if (seenAt.has(m.name)) fail('appears twice');
    seenAt.set(m.name, index);
    if (Object.hasOwn(INT_ATTRS, m.name)) {
      def[INT_ATTRS[m.name as keyof typeof INT_ATTRS]] = intAttr(btf, m, fail);
      return;
    }
    switch (m.name) {
      case 'key':
      case 'value': {
        const ptr = resolveType(btf, m.type);
        if (ptr.kind !== 'PTR') fail(`is ${ptr.kind}, expected PTR to the ${m.name} type (__type(${m.name}, T))`);
        if (m.name === 'key') def.keyType = ptr.type;
        else def.valueType = ptr.type;
        return;
      }
      case 'values': {
        if (isInner) fail('is not supported in an inner map definition (only one level of map-in-map)');
        if (index !== s.members.length - 1) fail('must be the last member');
        const arr = resolveType(btf, m.type);
        if (arr.kind !== 'ARRAY') fail(`is ${arr.kind}, expected a zero-length ARRAY of pointers (__array(values, T))`);
        if (arr.nelems !== 0) fail(`is an array of ${arr.nelems} elements, expected a zero-length array`);
        const elem = resolveType(btf, arr.type);
        if (elem.kind !== 'PTR') fail(`is an array of ${elem.kind}, expected an array of PTR`);
        const target = resolveType(btf, elem.type);
        if (target.kind === 'FUNC_PROTO') {
          def.progValues = true;
        } else if (target.kind === 'STRUCT') {
          def.inner = readDef(btf, target.id, `${label} inner map`, true);
        } else {
          fail(`points to ${target.kind}, expected STRUCT (inner map definition) or FUNC_PROTO (program array)`);
        }
        return;
      }
      default:
        fail('is not a known map definition attribute');
    }
  });
  const failAt = (member: string, message: string): never => {
    throw btfError(btf, `${label}: member '${member}' ${message}`, memberOffset(s, seenAt.get(member) ?? 0));
  };
  for (const [attr, typeField, sizeField] of [
    ['key', 'keyType', 'keySize'],
    ['value', 'valueType', 'valueSize'],
  ] as const) {
    const typeId = def[typeField];
    if (typeId === undefined) continue;
    let size: number;
    try {
      size = sizeOf(btf, typeId);
    } catch (e) {
      return failAt(attr, `points to a type without a size: ${(e as Error).message}`);
    }
    const declared = def[sizeField];
    if (declared !== undefined && declared !== size) {
      failAt(`${attr}_size`, `says ${declared} but the ${attr} type is ${size} bytes`);
    }
    def[sizeField] = size;
  }
  if (def.inner !== undefined || def.progValues) {
    // libbpf's parse_btf_map_def: `value` (or value_size) may come with `values` when it is 4 bytes,
    // the size of the inner map's or program's fd (Katran and cilium write __type(value, __u32)).
    if (def.valueSize !== undefined && def.valueSize !== FD_VALUE_SIZE) {
      failAt(def.valueType !== undefined ? 'value' : 'value_size',
        `conflicting value size ${def.valueSize} != ${FD_VALUE_SIZE}: beside 'values' the value is an fd (__type(value, __u32))`);
    }
    def.valueSize = FD_VALUE_SIZE;
  }
  return def;
}

/** `int (*name)[N]` → N. */
function intAttr(btf: Btf, m: BtfMember, fail: (expected: string) => never): number {
  const ptr = resolveType(btf, m.type);
  if (ptr.kind !== 'PTR') fail(`is ${ptr.kind}, expected PTR to ARRAY (__uint(${m.name}, N))`);
  const arr = resolveType(btf, ptr.type);
  if (arr.kind !== 'ARRAY') fail(`is PTR to ${arr.kind}, expected PTR to ARRAY (__uint(${m.name}, N))`);
  return arr.nelems;
}

export interface BtfMapVar {
  readonly name: string;
  /** Id of the VAR. */
  readonly varId: number;
  readonly def: BtfMapDef;
}

/** Every map variable listed in the `.maps` DATASEC, in order. Empty when there is none. */
export function readBtfMaps(btf: Btf): BtfMapVar[] {
  const sec: BtfDatasec | undefined = findDatasec(btf, '.maps');
  if (!sec) return [];
  return sec.vars.map((entry, i) => {
    const v = typeById(btf, entry.type);
    if (v.kind !== 'VAR') {
      throw btfError(btf, `DATASEC '.maps' entry ${i} is ${v.kind}, expected VAR`, sec.offset + 12 + i * 12);
    }
    return { name: v.name, varId: v.id, def: readMapDef(btf, v.id, v.name) };
  });
}

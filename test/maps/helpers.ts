/** Test-only: map definitions, environments and byte helpers for the map tests. */
import type { BpfMap, MapEnv } from '../../xdp/maps/bpf-map.js';
import { createMap } from '../../xdp/maps/create-map.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import type { MapDef } from '../../xdp/object/bpf-object.js';
import { Memory } from '../../xdp/runtime/memory.js';

export type MapTypeName = keyof typeof MAP_TYPE;

let nextIndex = 0;

/** A map definition with defaults (origin 'btf', section .maps). */
export function mapDef(type: MapTypeName, keySize: number, valueSize: number, maxEntries: number, extra: Partial<MapDef> = {}): MapDef {
  return {
    index: extra.index ?? nextIndex++,
    name: extra.name ?? `m_${type.toLowerCase()}`,
    type: MAP_TYPE[type],
    keySize, valueSize, maxEntries,
    flags: 0, pinning: 0, origin: 'btf', section: '.maps',
    ...extra,
  };
}

export interface TestEnv extends MapEnv {
  readonly maps: BpfMap[];
}

export function testEnv(cpus = 2, extra: Partial<MapEnv> = {}): TestEnv {
  return { memory: new Memory(), cpus, maps: [], ...extra } as TestEnv;
}

/** Create `def` in `env` at index env.maps.length (so map-in-map lookups by index work). */
export function make<T extends BpfMap = BpfMap>(def: MapDef, env: TestEnv = testEnv()): T {
  const m = createMap({ ...def, index: env.maps.length }, env);
  env.maps.push(m);
  return m as T;
}

/** Little-endian u32 bytes. */
export function u32(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true));
  return out;
}

export function u64(v: bigint | number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(v), true);
  return out;
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** The value bytes a ValueRef points at (value_size of them). */
export function at(ref: { region: { bytes: Uint8Array }; offset: number } | undefined, size: number): Uint8Array | undefined {
  return ref === undefined ? undefined : ref.region.bytes.slice(ref.offset, ref.offset + size);
}

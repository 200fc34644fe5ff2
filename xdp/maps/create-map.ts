/**
 * Making host maps from the definitions the object loader found: a table from
 * map type to constructor, the kernel's definition checks first (map-validate),
 * libbpf's adjustments before them. A type the host does not implement is an
 * UnsupportedError naming the map and its type.
 */
import { UnsupportedError } from '../errors.js';
import type { MapDef } from '../object/bpf-object.js';
import type { Memory } from '../runtime/memory.js';
import { ArrayMap } from './array-map.js';
import type { BpfMap, MapEnv } from './bpf-map.js';
import { HashMap } from './hash-map.js';
import { LpmTrieMap } from './lpm-trie-map.js';
import { mapLabel } from './map-errors.js';
import { MapInMap } from './map-in-map.js';
import { MAP_TYPE } from './map-types.js';
import { libbpfMapDef, validateMapDef } from './map-validate.js';
import { PerfEventArrayMap } from './perf-event-array-map.js';
import { ProgArrayMap } from './prog-array-map.js';
import { QueueStackMap } from './queue-stack-map.js';
import { CpuMap, DevMap, XskMap } from './redirect-maps.js';
import { RingBufMap } from './ringbuf-map.js';

type MapConstructor = new (def: MapDef, env: MapEnv) => BpfMap;

/** The map types the host implements, and the class of each. */
export const MAP_CONSTRUCTORS: Readonly<Record<number, MapConstructor>> = {
  [MAP_TYPE.ARRAY]: ArrayMap,
  [MAP_TYPE.PERCPU_ARRAY]: ArrayMap,
  [MAP_TYPE.HASH]: HashMap,
  [MAP_TYPE.PERCPU_HASH]: HashMap,
  [MAP_TYPE.LRU_HASH]: HashMap,
  [MAP_TYPE.LRU_PERCPU_HASH]: HashMap,
  [MAP_TYPE.LPM_TRIE]: LpmTrieMap,
  [MAP_TYPE.DEVMAP]: DevMap,
  [MAP_TYPE.DEVMAP_HASH]: DevMap,
  [MAP_TYPE.CPUMAP]: CpuMap,
  [MAP_TYPE.XSKMAP]: XskMap,
  [MAP_TYPE.PROG_ARRAY]: ProgArrayMap,
  [MAP_TYPE.ARRAY_OF_MAPS]: MapInMap,
  [MAP_TYPE.HASH_OF_MAPS]: MapInMap,
  [MAP_TYPE.RINGBUF]: RingBufMap,
  [MAP_TYPE.PERF_EVENT_ARRAY]: PerfEventArrayMap,
  [MAP_TYPE.QUEUE]: QueueStackMap,
  [MAP_TYPE.STACK]: QueueStackMap,
};

/**
 * A host map for `def` (a global-data map is the one-element ARRAY the loader
 * described, holding `initialValue`). The definition is first adjusted as libbpf
 * would (libbpfMapDef) and then checked as BPF_MAP_CREATE would (MapDefError);
 * the map's `def` is the adjusted one.
 */
export function createMap(def: MapDef, env: MapEnv): BpfMap {
  const Ctor = MAP_CONSTRUCTORS[def.type];
  if (Ctor === undefined) {
    throw new UnsupportedError(`${mapLabel(def)}: map type ${def.type} is not supported on the host (supported: ${supportedTypeNames().join(', ')})`, {
      section: def.section,
    });
  }
  if (!(Number.isInteger(env.cpus) && env.cpus >= 1)) throw new RangeError(`MapEnv.cpus must be a positive integer, not ${env.cpus}`);
  const adjusted = libbpfMapDef(def, env.cpus);
  validateMapDef(adjusted, env.cpus);
  return new Ctor(adjusted, env);
}

function supportedTypeNames(): string[] {
  return Object.entries(MAP_TYPE)
    .filter(([, n]) => MAP_CONSTRUCTORS[n] !== undefined)
    .map(([name]) => name);
}

export interface MapSetOptions {
  readonly memory: Memory;
  readonly cpus: number;
  readonly programs?: readonly string[];
  readonly littleEndian?: boolean;
}

/**
 * Every map of an object, in definition order (maps[i].def.index === defs[i].index),
 * sharing one MapEnv; map-in-map initial slots are placed once all exist, so a
 * slot naming a missing or mismatching map fails here rather than at first use.
 */
export function createMaps(defs: readonly MapDef[], opts: MapSetOptions): BpfMap[] {
  const maps: BpfMap[] = [];
  const env: MapEnv = {
    memory: opts.memory, cpus: opts.cpus, maps,
    ...(opts.programs !== undefined ? { programs: opts.programs } : {}),
    ...(opts.littleEndian !== undefined ? { littleEndian: opts.littleEndian } : {}),
  };
  for (const def of defs) maps.push(createMap(def, env));
  for (const m of maps) if (m instanceof MapInMap) m.resolveInitialSlots();
  return maps;
}

/**
 * Maps whose size the loader decides. A map may be declared with max_entries
 * 0 for the loader to fill in before BPF_MAP_CREATE: libbpf does it itself
 * for a PERF_EVENT_ARRAY (one slot per possible CPU, map_set_def_max_entries)
 * and rounds a RINGBUF up to a power-of-2 number of pages (adjust_ringbuf_sz,
 * which leaves 0 at 0); every other map is sized by the application
 * (bpf_map__set_max_entries), which here is `--map-size NAME=N`. A map still
 * at 0 when it is to be created is named, with the option that sizes it.
 */
import { UnsupportedError, XdpError } from '../errors.js';
import { MAP_TYPE } from '../maps/map-types.js';
import type { BpfObject, MapDef } from './bpf-object.js';

/** max_entries the kernel accepts (a u32), and at least 1. */
const MAX_ENTRIES = 0xffffffff;

/** Parse `NAME=N` arguments (repeatable `--map-size`) into a name → size table. */
export function parseMapSizes(args: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const arg of args) {
    const m = /^([^=]+)=(\d+)$/.exec(arg);
    const n = m ? Number(m[2]) : NaN;
    if (!m || !Number.isSafeInteger(n) || n < 1 || n > MAX_ENTRIES) {
      throw new XdpError(`--map-size expects NAME=N with N in 1..${MAX_ENTRIES}, got '${arg}'`);
    }
    if (out.has(m[1]!)) throw new XdpError(`--map-size names map '${m[1]}' twice`);
    out.set(m[1]!, n);
  }
  return out;
}

/** `obj` with the named maps resized (as bpf_map__set_max_entries); an unknown name is refused. */
export function withMapSizes<T extends BpfObject>(obj: T, sizes: ReadonlyMap<string, number>): T {
  if (sizes.size === 0) return obj;
  for (const name of sizes.keys()) {
    if (!obj.maps.some((m) => m.name === name)) {
      throw new UnsupportedError(
        `--map-size names map '${name}', which the object does not have; its maps: ${obj.maps.map((m) => m.name).join(', ') || 'none'}`,
        { file: obj.file },
      );
    }
  }
  const maps = obj.maps.map((m): MapDef => (sizes.has(m.name) ? { ...m, maxEntries: sizes.get(m.name)! } : m));
  return { ...obj, maps };
}

/** Does the loader itself size this map when it is created with max_entries 0? */
export const loaderSizes = (m: Pick<MapDef, 'type'>): boolean => m.type === MAP_TYPE.PERF_EVENT_ARRAY;

/** Refuse, naming the first map left at max_entries 0 that no loader sizes on its own. */
export function requireMapSizes(obj: Pick<BpfObject, 'file' | 'maps'>): void {
  const unsized = obj.maps.find((m) => m.maxEntries === 0 && !loaderSizes(m));
  if (unsized) {
    throw new UnsupportedError(
      `map '${unsized.name}' has max_entries 0: loaders size it before loading; give --map-size ${unsized.name}=N`,
      { file: obj.file, section: unsized.section },
    );
  }
}

/**
 * Typed errors of the host maps: a map definition the kernel would refuse at
 * BPF_MAP_CREATE (with the errno the kernel returns), and a maps JSON document
 * that cannot be loaded (with the file and the JSON path of the offending value).
 */
import { XdpError, type Location } from '../errors.js';
import type { MapDef } from '../object/bpf-object.js';
import { mapTypeName } from './map-types.js';

/** `map 'flows' (LRU_HASH)`: how every map error names its map. */
export function mapLabel(def: Pick<MapDef, 'name' | 'type'>): string {
  return `map '${def.name}' (${mapTypeName(def.type)})`;
}

/**
 * A map definition the kernel's map_alloc_check / map_alloc would refuse.
 * `errno` is what BPF_MAP_CREATE returns for it (EINVAL, E2BIG, ENOTSUPP...).
 */
export class MapDefError extends XdpError {
  readonly errno: number;
  readonly map: string;
  constructor(def: Pick<MapDef, 'name' | 'type' | 'section'>, message: string, errno: number, location: Location = {}) {
    super(`${mapLabel(def)}: ${message}`, { section: def.section, ...location });
    this.errno = errno;
    this.map = def.name;
  }
}

/** A maps JSON document (`--maps-in`) that is malformed or does not fit the maps: names the file and JSON path. */
export class MapJsonError extends XdpError {
  readonly path: string;
  constructor(message: string, file: string | undefined, path: string) {
    super(message, { ...(file !== undefined ? { file } : {}), path });
    this.path = path;
  }
}

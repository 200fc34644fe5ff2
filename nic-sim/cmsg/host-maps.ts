/**
 * The card's maps as the host sees them, through the control-message mailbox: read
 * into host maps after a replay (what `--maps-out` and `--maps` show, dumped the way
 * every engine's maps are) and written from host maps before one (`--maps-in`). Maps
 * the card does not hold keep their initial contents on the host side. Perf event
 * arrays are not reached by map messages: their samples come as the BPF_EVENT messages
 * the card sends, and are written to the host's array as they arrive.
 */
import type { BpfMap, MapEnv } from '../../xdp/maps/bpf-map.js';
import { createMap } from '../../xdp/maps/create-map.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import type { MapDef } from '../../xdp/object/bpf-object.js';
import { Memory } from '../../xdp/runtime/memory.js';
import { PerfEventArrayMap } from '../../xdp/maps/perf-event-array-map.js';
import type { CardMaps } from '../firmware/card-maps.js';
import { CmsgError, type CardMapClient } from './client.js';

/** Host maps for the object's map definitions, filled from the card's maps by name. */
export function readCardMaps(client: CardMapClient, card: CardMaps, defs: readonly MapDef[]): BpfMap[] {
  const maps: BpfMap[] = [];
  const env: MapEnv = { memory: new Memory(), cpus: 1, maps };
  for (const def of defs) maps.push(createMap(def, env));
  const byName = (name: string) => maps.find((m) => m.def.name === name);
  card.defs.forEach((d, i) => {
    if (d.type === MAP_TYPE.PERF_EVENT_ARRAY) return;
    const host = byName(d.name);
    if (host === undefined) return;
    for (const { key, value } of client.entries(card.tableId(i))) host.write(key, [value], 0);
  });
  for (const e of client.events()) {
    const i = card.mapIndexOfTable(e.tid);
    const host = i === undefined ? undefined : byName(card.defs[i]!.name);
    if (host instanceof PerfEventArrayMap) host.output(e.cpu, e.cpu, e.data);
  }
  return maps;
}

/** Every entry of the host maps written to the card map of the same name (BPF_ANY); the first refusal is a CmsgError. */
export function writeCardMaps(client: CardMapClient, card: CardMaps, staging: readonly BpfMap[]): number {
  let written = 0;
  card.defs.forEach((d, i) => {
    if (d.type === MAP_TYPE.PERF_EVENT_ARRAY) return;
    const host = staging.find((m) => m.def.name === d.name);
    if (host === undefined) return;
    for (const key of host.keys()) {
      const value = host.read(key)![0]!;
      const r = client.update(card.tableId(i), key, value, 0);
      if (r !== 0) throw new CmsgError(`map '${d.name}': the card refused an update over the mailbox (${r})`);
      written++;
    }
  });
  return written;
}

/**
 * What the driver does before it loads a program: one MAP_ALLOC per map of the card's
 * table, in table order, each answered with the table id the image's relocations name
 * (card-maps.ts numbers tables 1..n in that order); a different answer is a CmsgError.
 */
export function allocateCardMaps(client: CardMapClient, card: CardMaps): void {
  card.defs.forEach((d, i) => {
    const tid = client.alloc({ keySize: d.keySize, valueSize: d.valueSize, maxEntries: d.maxEntries, mapType: d.type, mapFlags: d.flags });
    if (tid !== card.tableId(i)) throw new CmsgError(`map '${d.name}': MAP_ALLOC answered ${tid}, not table ${card.tableId(i)}`);
  });
}

/** What the driver does when the program is unloaded: MAP_FREE for every table. */
export function freeCardMaps(client: CardMapClient, card: CardMaps): void {
  card.defs.forEach((_, i) => {
    const r = client.free(card.tableId(i));
    if (r !== 0) throw new CmsgError(`MAP_FREE of table ${card.tableId(i)}: ${r}`);
  });
}

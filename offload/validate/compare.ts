/**
 * What `offload validate` compares after every packet: the action (as the NFP code
 * each side's return value becomes, nic-sim/card/actions.ts), the packet's bytes,
 * and the maps the image holds — each map's keys and values (an array's every
 * index), and a perf event array's samples — between the host engine's maps and the
 * card's map store. Maps are matched by name; the card holds only those its code
 * refers to.
 */
import type { CardMaps } from '../../nic-sim/firmware/card-maps.js';
import type { BpfMap } from '../../xdp/maps/bpf-map.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import { PerfEventArrayMap } from '../../xdp/maps/perf-event-array-map.js';

export interface Difference {
  /** `action`, `bytes`, or `maps.NAME`. */
  readonly what: string;
  readonly host: string;
  readonly card: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Where two byte strings first differ, as a short description. */
export function bytesDifference(host: Uint8Array, card: Uint8Array): Difference | undefined {
  const n = Math.min(host.length, card.length);
  let i = 0;
  while (i < n && host[i] === card[i]) i++;
  if (i === n && host.length === card.length) return undefined;
  const around = (b: Uint8Array) => `${b.length} bytes${i < b.length ? `, byte ${i} = 0x${b[i]!.toString(16).padStart(2, '0')}` : ''}`;
  return { what: 'bytes', host: around(host), card: around(card) };
}

/** A map's contents as `key → value` hex strings (arrays: every index), sorted by key. */
function hostEntries(m: BpfMap): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of m.keys()) {
    const v = m.read(k);
    if (v) out.set(hex(k), v.map(hex).join('/'));
  }
  return out;
}

function cardEntries(maps: CardMaps, i: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of maps.keys(i)) {
    const v = maps.value(i, k);
    if (v) out.set(hex(k), hex(v));
  }
  return out;
}

function entriesDifference(name: string, host: Map<string, string>, card: Map<string, string>): Difference | undefined {
  for (const [k, v] of host) {
    const c = card.get(k);
    if (c !== v) return { what: `maps.${name}[${k}]`, host: v, card: c ?? '(absent)' };
  }
  for (const [k, c] of card) if (!host.has(k)) return { what: `maps.${name}[${k}]`, host: '(absent)', card: c };
  return undefined;
}

function eventsDifference(name: string, host: PerfEventArrayMap, card: CardMaps, i: number): Difference | undefined {
  const h = host.events().map((e) => `${e.cpu}:${hex(e.data)}`);
  const c = card.events(i).map((e) => `${e.cpu}:${hex(e.data)}`);
  for (let k = 0; k < Math.max(h.length, c.length); k++) {
    if (h[k] !== c[k]) return { what: `maps.${name} event ${k}`, host: h[k] ?? '(none)', card: c[k] ?? '(none)' };
  }
  return undefined;
}

/**
 * The first difference between the host's maps and the card's, map by map in the card's table order;
 * `events: false` leaves perf event arrays out (the kernel's samples are not read back).
 */
export function mapsDifference(host: readonly BpfMap[], card: CardMaps, opts: { events?: boolean } = {}): Difference | undefined {
  for (let i = 0; i < card.length; i++) {
    const def = card.defs[i]!;
    if (opts.events === false && def.type === MAP_TYPE.PERF_EVENT_ARRAY) continue;
    const h = host.find((m) => m.def.name === def.name);
    if (!h) return { what: `maps.${def.name}`, host: '(no such map)', card: 'present' };
    const d = def.type === MAP_TYPE.PERF_EVENT_ARRAY
      ? (h instanceof PerfEventArrayMap ? eventsDifference(def.name, h, card, i) : { what: `maps.${def.name}`, host: 'not a perf event array', card: 'perf event array' })
      : entriesDifference(def.name, hostEntries(h), cardEntries(card, i));
    if (d) return d;
  }
  return undefined;
}

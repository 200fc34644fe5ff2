/**
 * The routing and neighbour tables that bpf_fib_lookup consults, given as a
 * JSON file (`--routes FILE`):
 *
 *   { "interfaces": [ { "ifindex": 2, "mac": "02:00:00:00:00:02", "mtu": 1500 } ],
 *     "routes": [ { "prefix": "10.0.0.0/8", "ifindex": 2, "gateway": "192.0.2.1" },
 *                 { "prefix": "2001:db8::/32", "ifindex": 3 },
 *                 { "prefix": "203.0.113.0/24", "type": "blackhole" } ],
 *     "neighbors": [ { "ip": "192.0.2.1", "mac": "02:00:00:00:00:01" } ] }
 *
 * Longest-prefix match per family; route types unicast (default), blackhole,
 * unreachable, prohibit — the outcomes BPF_FIB_LKUP_RET_* names
 * (include/uapi/linux/bpf.h).
 */
import { readFileSync } from 'node:fs';
import { XdpError } from '../../errors.js';

export const FibResult = {
  SUCCESS: 0, BLACKHOLE: 1, UNREACHABLE: 2, PROHIBIT: 3, NOT_FWDED: 4, FWD_DISABLED: 5, UNSUPP_LWT: 6,
  NO_NEIGH: 7, FRAG_NEEDED: 8,
} as const;

export type RouteType = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit';

export interface Route {
  readonly family: 4 | 6;
  /** Address bytes (4 or 16) and prefix length. */
  readonly addr: Uint8Array;
  readonly prefixLen: number;
  readonly type: RouteType;
  readonly ifindex: number;
  readonly gateway?: Uint8Array;
  readonly mtu?: number;
}

export interface FibInterface {
  readonly ifindex: number;
  readonly mac: Uint8Array;
  readonly mtu: number;
}

export interface FibTable {
  readonly routes: readonly Route[];
  readonly interfaces: ReadonlyMap<number, FibInterface>;
  /** Neighbour MAC by address (hex of the address bytes). */
  readonly neighbors: ReadonlyMap<string, Uint8Array>;
}

export class RouteFileError extends XdpError {}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export function parseIp(text: string): { family: 4 | 6; bytes: Uint8Array } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((p) => p <= 255) ? { family: 4, bytes: Uint8Array.from(parts) } : undefined;
  }
  if (!text.includes(':')) return undefined;
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const missing = 8 - h.length - t.length;
  if ((tail === undefined && missing !== 0) || missing < 0) return undefined;
  const all = [...h, ...Array(tail === undefined ? 0 : missing).fill('0'), ...t];
  if (all.length !== 8 || !all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = parseInt(g, 16);
    bytes[2 * i] = v >> 8;
    bytes[2 * i + 1] = v & 0xff;
  });
  return { family: 6, bytes };
}

function parseMac(text: unknown, path: string, file: string): Uint8Array {
  if (typeof text !== 'string' || !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(text)) {
    throw new RouteFileError(`expected a MAC address like 02:00:00:00:00:01, got ${JSON.stringify(text)}`, { file, path });
  }
  return Uint8Array.from(text.split(':').map((x) => parseInt(x, 16)));
}

function expectInt(v: unknown, path: string, file: string, min = 0, max = 0xffffffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RouteFileError(`expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`, { file, path });
  }
  return v;
}

function expectArray(v: unknown, path: string, file: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new RouteFileError(`expected an array, got ${typeof v}`, { file, path });
  return v;
}

function expectObject(v: unknown, path: string, file: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RouteFileError('expected an object', { file, path });
  return v as Record<string, unknown>;
}

export function parseFibTable(doc: unknown, file: string): FibTable {
  const root = expectObject(doc, '$', file);
  for (const key of Object.keys(root)) {
    if (!['interfaces', 'routes', 'neighbors'].includes(key)) throw new RouteFileError(`unknown field '${key}': expected interfaces, routes, neighbors`, { file, path: `$.${key}` });
  }
  const interfaces = new Map<number, FibInterface>();
  expectArray(root.interfaces, '$.interfaces', file).forEach((raw, i) => {
    const path = `$.interfaces[${i}]`;
    const o = expectObject(raw, path, file);
    const ifindex = expectInt(o.ifindex, `${path}.ifindex`, file, 1);
    interfaces.set(ifindex, { ifindex, mac: parseMac(o.mac, `${path}.mac`, file), mtu: o.mtu === undefined ? 1500 : expectInt(o.mtu, `${path}.mtu`, file, 68, 65535) });
  });
  const routes: Route[] = expectArray(root.routes, '$.routes', file).map((raw, i) => {
    const path = `$.routes[${i}]`;
    const o = expectObject(raw, path, file);
    const m = typeof o.prefix === 'string' ? /^(.+)\/(\d{1,3})$/.exec(o.prefix) : null;
    const ip = m ? parseIp(m[1]!) : undefined;
    const prefixLen = m ? Number(m[2]) : -1;
    if (!ip || prefixLen > (ip.family === 4 ? 32 : 128)) {
      throw new RouteFileError(`expected a prefix like 10.0.0.0/8 or 2001:db8::/32, got ${JSON.stringify(o.prefix)}`, { file, path: `${path}.prefix` });
    }
    const type = (o.type ?? 'unicast') as RouteType;
    if (!['unicast', 'blackhole', 'unreachable', 'prohibit'].includes(type)) {
      throw new RouteFileError(`expected type unicast, blackhole, unreachable or prohibit, got ${JSON.stringify(o.type)}`, { file, path: `${path}.type` });
    }
    const ifindex = type === 'unicast' ? expectInt(o.ifindex, `${path}.ifindex`, file, 1) : 0;
    let gateway: Uint8Array | undefined;
    if (o.gateway !== undefined) {
      const g = typeof o.gateway === 'string' ? parseIp(o.gateway) : undefined;
      if (!g || g.family !== ip.family) throw new RouteFileError(`expected an IPv${ip.family} gateway address`, { file, path: `${path}.gateway` });
      gateway = g.bytes;
    }
    return {
      family: ip.family, addr: ip.bytes, prefixLen, type, ifindex,
      ...(gateway ? { gateway } : {}),
      ...(o.mtu !== undefined ? { mtu: expectInt(o.mtu, `${path}.mtu`, file, 68, 65535) } : {}),
    };
  });
  const neighbors = new Map<string, Uint8Array>();
  expectArray(root.neighbors, '$.neighbors', file).forEach((raw, i) => {
    const path = `$.neighbors[${i}]`;
    const o = expectObject(raw, path, file);
    const ip = typeof o.ip === 'string' ? parseIp(o.ip) : undefined;
    if (!ip) throw new RouteFileError(`expected an IP address, got ${JSON.stringify(o.ip)}`, { file, path: `${path}.ip` });
    neighbors.set(hex(ip.bytes), parseMac(o.mac, `${path}.mac`, file));
  });
  return { routes, interfaces, neighbors };
}

export function loadFibTable(file: string): FibTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RouteFileError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new RouteFileError(`not valid JSON: ${(e as Error).message}`, { file });
  }
  return parseFibTable(doc, file);
}

function matches(route: Route, addr: Uint8Array): boolean {
  let bits = route.prefixLen;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i]! & mask) !== (route.addr[i]! & mask)) return false;
  }
  return true;
}

export interface FibAnswer {
  readonly result: number;
  readonly ifindex?: number;
  readonly smac?: Uint8Array;
  readonly dmac?: Uint8Array;
  readonly mtu?: number;
}

/** Longest-prefix match for `dst`, then the neighbour of the next hop. */
export function fibLookup(table: FibTable, family: 4 | 6, dst: Uint8Array, skipNeigh: boolean): FibAnswer {
  let best: Route | undefined;
  for (const r of table.routes) {
    if (r.family === family && matches(r, dst) && (!best || r.prefixLen > best.prefixLen)) best = r;
  }
  if (!best) return { result: FibResult.NOT_FWDED };
  if (best.type === 'blackhole') return { result: FibResult.BLACKHOLE };
  if (best.type === 'unreachable') return { result: FibResult.UNREACHABLE };
  if (best.type === 'prohibit') return { result: FibResult.PROHIBIT };
  const iface = table.interfaces.get(best.ifindex);
  const mtu = best.mtu ?? iface?.mtu ?? 1500;
  const smac = iface?.mac ?? new Uint8Array(6);
  if (skipNeigh) return { result: FibResult.SUCCESS, ifindex: best.ifindex, smac, mtu };
  const dmac = table.neighbors.get(hex(best.gateway ?? dst));
  if (!dmac) return { result: FibResult.NO_NEIGH, ifindex: best.ifindex, smac, mtu };
  return { result: FibResult.SUCCESS, ifindex: best.ifindex, smac, dmac, mtu };
}

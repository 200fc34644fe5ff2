/**
 * The card's end of the control-message mailbox: it decodes a request
 * (cmsg-schema.ts), carries it out on the card's maps as the firmware would, and
 * encodes the reply; every message costs the profile's mailbox round trip, summed so
 * that a replay can say what its map traffic cost. A request the firmware cannot parse
 * (an unknown type, another ABI version, a key or value of the wrong size) gets
 * ERR_MAP_PARSE; a table id the card has not allocated, ERR_MAP_FD.
 *
 * Allocation: the card's map memory is laid out by the image it runs (its maps in
 * table order, nic-sim/firmware/card-maps.ts), so MAP_ALLOC binds the first
 * unallocated table whose key size, value size, entries, type and flags are the
 * request's, and answers its table id — what the driver then relocates into the
 * program — or ERR_MAP_NOMEM when none is left (ERR_MAP_E2BIG for a key or value longer
 * than a message carries); MAP_FREE unbinds it.
 */
import type { CardMaps } from '../firmware/card-maps.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import { CMSG_MAP_ABI_VERSION, CMSG_MAX_BYTES, CMSG_REPLY, CmsgRc, CmsgType, decodeCmsg, encodeCmsg, type Cmsg } from './cmsg-schema.js';

const ERRNO_RC: Readonly<Record<number, number>> = { [-2]: CmsgRc.ERR_MAP_NOENT, [-17]: CmsgRc.ERR_MAP_EXIST, [-7]: CmsgRc.ERR_MAP_E2BIG, [-12]: CmsgRc.ERR_MAP_NOMEM };

export class CardMailbox {
  /** Messages handled, and their summed round trips in ns. */
  messages = 0;
  busyNs = 0;
  private readonly allocated: boolean[];

  private readonly multiEntry: boolean;

  /**
   * `multiEntry`: the card answers GETFIRST / GETNEXT with as many entries as asked
   * (the NFP's CMSG_MULTI_ENT capability), else with one. `preallocated`: the image's
   * maps start allocated (a card the driver has loaded), else each waits for its MAP_ALLOC.
   */
  constructor(private readonly maps: CardMaps, private readonly latencyNs: number, opts: { multiEntry?: boolean; preallocated?: boolean } = {}) {
    this.allocated = maps.defs.map(() => opts.preallocated ?? true);
    this.multiEntry = opts.multiEntry ?? false;
  }

  /**
   * The perf samples the program wrote since the last call, each as the BPF_EVENT
   * message the firmware sends the host unasked (tid: the map, flags: the CPU, the
   * sample as the one value), oldest first.
   */
  drainEvents(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.maps.defs.forEach((d, i) => {
      if (d.type !== MAP_TYPE.PERF_EVENT_ARRAY) return;
      for (const e of this.maps.consume(i)) {
        this.messages++;
        out.push(encodeCmsg({ type: CmsgType.BPF_EVENT, version: CMSG_MAP_ABI_VERSION, tag: 0, tid: this.maps.tableId(i), count: 1, flags: e.cpu, values: [e.data] }));
      }
    });
    return out;
  }

  /** One request in, its reply out. */
  handle(request: Uint8Array): Uint8Array {
    this.messages++;
    this.busyNs += this.latencyNs;
    let m: Cmsg;
    try {
      m = decodeCmsg(request);
    } catch {
      return encodeCmsg({ type: CMSG_REPLY, version: CMSG_MAP_ABI_VERSION, tag: 0, rc: CmsgRc.ERR_MAP_PARSE });
    }
    const reply = (fields: Partial<Cmsg>): Uint8Array =>
      encodeCmsg({ type: (m.type | CMSG_REPLY) & 0xff, version: CMSG_MAP_ABI_VERSION, tag: m.tag, ...fields });
    if (m.version !== CMSG_MAP_ABI_VERSION) return reply({ rc: CmsgRc.ERR_MAP_PARSE });
    if (m.type === CmsgType.MAP_ALLOC) return reply(this.alloc(m));
    const i = this.maps.mapIndexOfTable(m.tid ?? 0);
    if (i === undefined || !this.allocated[i]) return reply({ rc: CmsgRc.ERR_MAP_FD });
    const def = this.maps.defs[i]!;
    const keys = m.keys ?? [];
    const key = keys[0];
    const keyOk = key !== undefined && key.length === def.keySize;
    switch (m.type) {
      case CmsgType.MAP_FREE:
        this.allocated[i] = false;
        return reply({ rc: CmsgRc.SUCCESS });
      case CmsgType.MAP_LOOKUP: {
        if (!keyOk) return reply({ rc: CmsgRc.ERR_MAP_PARSE });
        const v = this.maps.value(i, key);
        return v === undefined ? reply({ rc: CmsgRc.ERR_MAP_NOENT, count: 0 }) : reply({ rc: CmsgRc.SUCCESS, count: 1, keys: [key], values: [v] });
      }
      case CmsgType.MAP_UPDATE: {
        const value = m.values?.[0];
        if (!keyOk || value === undefined || value.length !== def.valueSize) return reply({ rc: CmsgRc.ERR_MAP_PARSE });
        const r = this.maps.write(i, key, value, m.flags ?? 0);
        return reply({ rc: r === 0 ? CmsgRc.SUCCESS : ERRNO_RC[r] ?? CmsgRc.ERR_MAP_ERR, count: r === 0 ? 1 : 0 });
      }
      case CmsgType.MAP_DELETE: {
        if (!keyOk) return reply({ rc: CmsgRc.ERR_MAP_PARSE });
        if (def.type === MAP_TYPE.ARRAY) return reply({ rc: CmsgRc.ERR_MAP_ERR });
        const r = this.maps.delete(i, key);
        return reply({ rc: r === 0 ? CmsgRc.SUCCESS : ERRNO_RC[r] ?? CmsgRc.ERR_MAP_ERR });
      }
      case CmsgType.MAP_GETFIRST:
      case CmsgType.MAP_GETNEXT: {
        if (m.type === CmsgType.MAP_GETNEXT && !keyOk) return reply({ rc: CmsgRc.ERR_MAP_PARSE });
        const all = this.maps.keys(i);
        let from = 0;
        if (m.type === CmsgType.MAP_GETNEXT) {
          const at = all.findIndex((k) => sameBytes(k, key!));
          // A key no longer present starts the walk over, as the kernel's get_next_key does for a hash.
          from = at < 0 ? 0 : at + 1;
        }
        const want = this.multiEntry ? Math.max(1, m.count ?? 1) : 1;
        const out = all.slice(from, from + want);
        if (out.length === 0) return reply({ rc: CmsgRc.ERR_MAP_NOENT, count: 0 });
        return reply({ rc: CmsgRc.SUCCESS, count: out.length, keys: out, values: out.map((k) => this.maps.value(i, k)!) });
      }
      default:
        return reply({ rc: CmsgRc.ERR_MAP_PARSE });
    }
  }

  private alloc(m: Cmsg): Partial<Cmsg> {
    const s = m.spec;
    if (s === undefined) return { rc: CmsgRc.ERR_MAP_PARSE };
    // Keys and values travel in messages of at most 16 words each.
    if (s.keySize > CMSG_MAX_BYTES || s.valueSize > CMSG_MAX_BYTES) return { rc: CmsgRc.ERR_MAP_E2BIG };
    const i = this.maps.defs.findIndex((d, k) => !this.allocated[k] && d.keySize === s.keySize && d.valueSize === s.valueSize &&
      d.maxEntries === s.maxEntries && d.type === s.mapType && d.flags === s.mapFlags);
    if (i < 0) return { rc: CmsgRc.ERR_MAP_NOMEM };
    this.allocated[i] = true;
    return { rc: CmsgRc.SUCCESS, tid: this.maps.tableId(i) };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

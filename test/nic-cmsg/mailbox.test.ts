import { describe, expect, it } from 'vitest';
import { CMSG_MAP_ABI_VERSION, CMSG_REPLY, CmsgRc, CmsgType, decodeCmsg, encodeCmsg } from '../../nic-sim/cmsg/cmsg-schema.js';
import { CardMapClient, CmsgError } from '../../nic-sim/cmsg/client.js';
import { CardMailbox } from '../../nic-sim/cmsg/mailbox.js';
import { CardMaps } from '../../nic-sim/firmware/card-maps.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';

const u32 = (n: number) => Uint8Array.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24]);
const u64 = (n: number) => Uint8Array.from([...u32(n), 0, 0, 0, 0]);

function card(opts: { multiEntry?: boolean; preallocated?: boolean } = {}) {
  const maps = new CardMaps([
    { name: 'flows', type: MAP_TYPE.HASH, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 },
    { name: 'counts', type: MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 3, flags: 0 },
    { name: 'events', type: MAP_TYPE.PERF_EVENT_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0 },
  ]);
  const mailbox = new CardMailbox(maps, 2500, opts);
  return { maps, mailbox, client: new CardMapClient(mailbox, opts.multiEntry ?? false) };
}

describe('control messages to the card maps', () => {
  it('update, lookup, delete and walks as the driver asks them, with its errnos', () => {
    const { client, mailbox } = card();
    expect(client.update(1, u32(7), u64(70), 0)).toBe(0);
    expect(client.update(1, u32(8), u64(80), 0)).toBe(0);
    expect(client.update(1, u32(7), u64(71), 1 /* BPF_NOEXIST */)).toBe(-17);
    expect(client.lookup(1, u32(7))).toEqual(u64(70));
    expect(client.lookup(1, u32(9))).toBeUndefined();
    expect(client.entries(1).map((e) => [e.key[0], e.value[0]])).toEqual([[7, 70], [8, 80]]);
    expect(client.delete(1, u32(7))).toBe(0);
    expect(client.delete(1, u32(7))).toBe(-2);
    for (let k = 0; k < 3; k++) expect(client.update(1, u32(20 + k), u64(k), 0)).toBe(0);
    // The hash holds 4: the fifth key is refused for want of room.
    expect(client.update(1, u32(30), u64(0), 0)).toBe(-7);
    // An array: every index, updates in place, no delete.
    expect(client.update(2, u32(1), u64(5), 0)).toBe(0);
    expect(client.entries(2).map((e) => e.value[0])).toEqual([0, 5, 0]);
    expect(client.delete(2, u32(1))).toBe(-22);
    expect(mailbox.busyNs).toBe(mailbox.messages * 2500);
  });

  it('a multi-entry card answers a walk 16 entries a message; a single-entry card one', () => {
    const single = card();
    const multi = card({ multiEntry: true });
    for (const c of [single, multi]) c.client.entries(2);
    // GETFIRST and GETNEXT until ENOENT: 3 entries one at a time is 4 messages; at once, 2.
    expect(single.mailbox.messages).toBe(4);
    expect(multi.mailbox.messages).toBe(2);
  });

  it('statuses for what the firmware cannot do: unknown table, unparsable, other ABI version, unknown type', () => {
    const { mailbox, client } = card();
    const ask = (m: Parameters<typeof encodeCmsg>[0]) => decodeCmsg(mailbox.handle(encodeCmsg(m)));
    expect(ask({ type: CmsgType.MAP_LOOKUP, version: CMSG_MAP_ABI_VERSION, tag: 5, tid: 9, keys: [u32(0)] })).toMatchObject({ type: CmsgType.MAP_LOOKUP | CMSG_REPLY, tag: 5, rc: CmsgRc.ERR_MAP_FD });
    expect(ask({ type: CmsgType.MAP_LOOKUP, version: CMSG_MAP_ABI_VERSION, tag: 6, tid: 1, keys: [Uint8Array.of(1, 2)] }).rc).toBe(CmsgRc.ERR_MAP_PARSE);
    expect(ask({ type: CmsgType.MAP_LOOKUP, version: 9, tag: 7, tid: 1, keys: [u32(0)] }).rc).toBe(CmsgRc.ERR_MAP_PARSE);
    expect(ask({ type: 42, version: CMSG_MAP_ABI_VERSION, tag: 8, tid: 1 }).rc).toBe(CmsgRc.ERR_MAP_PARSE);
    expect(decodeCmsg(mailbox.handle(Uint8Array.of(0xff, 0xff, 0xff))).rc).toBe(CmsgRc.ERR_MAP_PARSE);
    expect(() => client.lookup(9, u32(0))).toThrow(CmsgError);
  });

  it('a reply of the wrong type or tag is refused, as nfp_ccm_communicate refuses it', () => {
    const { maps } = card();
    const inner = new CardMailbox(maps, 0);
    const wrongTag = new CardMapClient({ handle: (b) => { const r = decodeCmsg(inner.handle(b)); return encodeCmsg({ ...r, tag: r.tag + 1 }); }, drainEvents: () => [] }, false);
    expect(() => wrongTag.lookup(1, u32(0))).toThrow(/reply tag 1 to request tag 0/);
  });

  it('MAP_ALLOC binds a free table of the asked shape; MAP_FREE lets it go', () => {
    const { client } = card({ preallocated: false });
    expect(client.update(1, u32(1), u64(1), 0)).toBe(-77);
    const spec = { keySize: 4, valueSize: 8, maxEntries: 3, mapType: MAP_TYPE.ARRAY, mapFlags: 0 };
    expect(client.alloc(spec)).toBe(2);
    expect(client.alloc(spec)).toBe(-12);
    expect(client.alloc({ ...spec, maxEntries: 99 })).toBe(-12);
    expect(client.alloc({ ...spec, valueSize: 65 })).toBe(-7);
    expect(client.update(2, u32(1), u64(1), 0)).toBe(0);
    expect(client.free(2)).toBe(0);
    expect(() => client.lookup(2, u32(0))).toThrow(/status 1/);
  });

  it('perf samples reach the host as BPF_EVENT messages, each once', () => {
    const { maps, client } = card();
    maps.output(2, 0, 0, Uint8Array.of(1, 2, 3));
    maps.output(2, 0, 0, Uint8Array.of(4));
    expect(client.events()).toEqual([{ tid: 3, cpu: 0, data: Uint8Array.of(1, 2, 3) }, { tid: 3, cpu: 0, data: Uint8Array.of(4) }]);
    expect(client.events()).toEqual([]);
  });
});

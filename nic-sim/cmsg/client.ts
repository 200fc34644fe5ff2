/**
 * The host's end of the control-message mailbox: map operations on the card as
 * request / reply pairs (cmsg-schema.ts), each tagged and its reply checked for type
 * and tag as the driver's nfp_ccm_communicate does; a reply that does not match is a
 * CmsgError. Statuses come back as the driver turns them into errnos
 * (nfp_bpf_ctrl_rc_to_errno). Walking a map asks for 16 entries a message when the
 * card takes several (CMSG_MULTI_ENT), one otherwise.
 */
import { XdpError } from '../../xdp/errors.js';
import { CMSG_MAP_ABI_VERSION, CMSG_REPLY, CmsgRc, CmsgType, RC_ERRNO, decodeCmsg, encodeCmsg, type Cmsg, type MapSpec } from './cmsg-schema.js';

export interface Mailbox {
  handle(request: Uint8Array): Uint8Array;
  /** The BPF_EVENT messages the card has sent since the last call. */
  drainEvents(): Uint8Array[];
}

export class CmsgError extends XdpError {}

/** Entries one GETNEXT asks for on a multi-entry card. */
export const WALK_BATCH = 16;

export class CardMapClient {
  private tag = 0;

  constructor(private readonly mailbox: Mailbox, private readonly multiEntry: boolean) {}

  alloc(spec: MapSpec): number {
    const r = this.call({ type: CmsgType.MAP_ALLOC, spec });
    return r.rc === CmsgRc.SUCCESS ? r.tid ?? 0 : errno(r);
  }

  free(tid: number): number {
    return errno(this.call({ type: CmsgType.MAP_FREE, tid }));
  }

  lookup(tid: number, key: Uint8Array): Uint8Array | undefined {
    const r = this.call({ type: CmsgType.MAP_LOOKUP, tid, count: 1, keys: [key] });
    if (r.rc === CmsgRc.ERR_MAP_NOENT) return undefined;
    this.ok(r, 'lookup', tid);
    return r.values?.[0];
  }

  update(tid: number, key: Uint8Array, value: Uint8Array, flags: number): number {
    return errno(this.call({ type: CmsgType.MAP_UPDATE, tid, count: 1, flags, keys: [key], values: [value] }));
  }

  delete(tid: number, key: Uint8Array): number {
    return errno(this.call({ type: CmsgType.MAP_DELETE, tid, count: 1, keys: [key] }));
  }

  /** Every entry of a map, GETFIRST then GETNEXT until ENOENT. */
  entries(tid: number): { key: Uint8Array; value: Uint8Array }[] {
    const out: { key: Uint8Array; value: Uint8Array }[] = [];
    const count = this.multiEntry ? WALK_BATCH : 1;
    let r = this.call({ type: CmsgType.MAP_GETFIRST, tid, count });
    for (;;) {
      if (r.rc === CmsgRc.ERR_MAP_NOENT) return out;
      this.ok(r, 'walk', tid);
      const keys = r.keys ?? [];
      const values = r.values ?? [];
      if (keys.length === 0 || keys.length !== values.length) throw new CmsgError(`map walk of table ${tid}: a reply with ${keys.length} keys and ${values.length} values`);
      for (let k = 0; k < keys.length; k++) out.push({ key: keys[k]!, value: values[k]! });
      r = this.call({ type: CmsgType.MAP_GETNEXT, tid, count, keys: [keys.at(-1)!] });
    }
  }

  /** The perf samples the card has sent (BPF_EVENT messages): the map's table id, the CPU and the sample. */
  events(): { tid: number; cpu: number; data: Uint8Array }[] {
    return this.mailbox.drainEvents().map((bytes) => {
      const m = decodeCmsg(bytes);
      const data = m.values?.[0];
      if (m.type !== CmsgType.BPF_EVENT || data === undefined) throw new CmsgError(`control message: expected a BPF_EVENT with one sample, got type ${m.type}`);
      return { tid: m.tid ?? 0, cpu: m.flags ?? 0, data };
    });
  }

  private call(req: Omit<Cmsg, 'version' | 'tag'>): Cmsg {
    const tag = this.tag;
    this.tag = (this.tag + 1) & 0xffff;
    const reply = decodeCmsg(this.mailbox.handle(encodeCmsg({ ...req, version: CMSG_MAP_ABI_VERSION, tag })));
    if (reply.type !== (req.type | CMSG_REPLY)) throw new CmsgError(`control message: reply type 0x${reply.type.toString(16)} to a request of type ${req.type}`);
    if (reply.tag !== tag) throw new CmsgError(`control message: reply tag ${reply.tag} to request tag ${tag}`);
    return reply;
  }

  private ok(r: Cmsg, what: string, tid: number): void {
    if (r.rc !== CmsgRc.SUCCESS) throw new CmsgError(`map ${what} of table ${tid}: the card answers status ${r.rc} (${RC_ERRNO[r.rc ?? 0] ?? 'unknown'})`);
  }
}

function errno(r: Cmsg): number {
  return RC_ERRNO[r.rc ?? 0] ?? -5;
}

/**
 * The control messages the host exchanges with the card's firmware to reach its maps,
 * as this project's protobuf schema. The message types, the reply bit, the status codes
 * and the entry limits are the NFP's (the kernel's drivers/net/ethernet/netronome/nfp/
 * ccm.h and bpf/fw.h: NFP_CCM_TYPE_BPF_MAP_ALLOC 1 … MAP_GETFIRST 7, BPF_EVENT 8; a
 * reply's type is the request's | 0x80; CMSG_RC_SUCCESS 0 … CMSG_RC_ERR_MAP_E2BIG 7;
 * keys and values of up to 16 words in ABI 2). The wire layout is protobuf rather than
 * the NFP's packed big-endian structs; the fields are the structs' (cmsg_hdr {type,
 * ver, tag}, cmsg_req_map_op {tid, count, flags, elem[]}, cmsg_reply_map_op {rc,
 * count, elem[]}, cmsg_req_map_alloc_tbl {key_size, value_size, max_entries,
 * map_type, map_flags}, cmsg_reply_map_alloc_tbl {rc, tid}).
 */
import protobuf from 'protobufjs';

export const CMSG_PROTO = `
syntax = "proto3";
package nicsim.cmsg;

message MapSpec {
  uint32 key_size = 1;
  uint32 value_size = 2;
  uint32 max_entries = 3;
  uint32 map_type = 4;
  uint32 map_flags = 5;
}

message Cmsg {
  uint32 type = 1;          // NFP_CCM_TYPE_BPF_*; a reply's | 0x80
  uint32 version = 2;       // CMSG_MAP_ABI_VERSION
  uint32 tag = 3;           // the request's, echoed in its reply (be16 on the NFP)
  uint32 tid = 4;           // table id (map ops, free; an alloc's reply)
  uint32 count = 5;         // entries asked for / returned
  uint32 flags = 6;         // BPF_ANY, BPF_NOEXIST, BPF_EXIST (update)
  uint32 rc = 7;            // CMSG_RC_* (replies)
  repeated bytes keys = 8;
  repeated bytes values = 9;
  MapSpec spec = 10;        // alloc
}
`;

export const CmsgType = {
  MAP_ALLOC: 1, MAP_FREE: 2, MAP_LOOKUP: 3, MAP_UPDATE: 4, MAP_DELETE: 5, MAP_GETNEXT: 6, MAP_GETFIRST: 7, BPF_EVENT: 8,
} as const;
export type CmsgTypeName = keyof typeof CmsgType;

/** A reply's type: the request's with this bit set (__NFP_CCM_REPLY). */
export const CMSG_REPLY = 0x80;
/** The map ABI version this card speaks (CMSG_MAP_ABI_VERSION). */
export const CMSG_MAP_ABI_VERSION = 1;
/** Largest key or value a message carries: 16 words (ABI 2's cmsg_key_sz / cmsg_val_sz). */
export const CMSG_MAX_BYTES = 64;

export const CmsgRc = {
  SUCCESS: 0, ERR_MAP_FD: 1, ERR_MAP_NOENT: 2, ERR_MAP_ERR: 3, ERR_MAP_PARSE: 4, ERR_MAP_EXIST: 5, ERR_MAP_NOMEM: 6, ERR_MAP_E2BIG: 7,
} as const;

/** What the driver makes of each status (nfp_bpf_ctrl_rc_to_errno): 0 or -errno. */
export const RC_ERRNO: readonly number[] = [0, -77 /* EBADFD */, -2 /* ENOENT */, -22 /* EINVAL */, -5 /* EIO */, -17 /* EEXIST */, -12 /* ENOMEM */, -7 /* E2BIG */];

export interface MapSpec {
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapType: number;
  mapFlags: number;
}

export interface Cmsg {
  type: number;
  version: number;
  tag: number;
  tid?: number;
  count?: number;
  flags?: number;
  rc?: number;
  keys?: Uint8Array[];
  values?: Uint8Array[];
  spec?: MapSpec;
}

export const CmsgMessage = protobuf.parse(CMSG_PROTO, { keepCase: false }).root.lookupType('nicsim.cmsg.Cmsg');

export function encodeCmsg(m: Cmsg): Uint8Array {
  return CmsgMessage.encode(CmsgMessage.fromObject(m)).finish();
}

/** A message from its bytes (protobufjs throws on malformed input); byte fields as plain Uint8Arrays. */
export function decodeCmsg(bytes: Uint8Array): Cmsg {
  const o = CmsgMessage.toObject(CmsgMessage.decode(bytes), { defaults: true, arrays: true }) as Cmsg;
  const plain = (list: Uint8Array[] | undefined) => list?.map((b) => Uint8Array.from(b));
  return { ...o, ...(o.keys ? { keys: plain(o.keys)! } : {}), ...(o.values ? { values: plain(o.values)! } : {}) };
}

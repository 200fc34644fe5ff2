/**
 * What the verifier knows about one register (the kernel's struct
 * bpf_reg_state): its type, and for pointers the fixed offset `off` plus a
 * variable part kept in the same scalar domain as plain numbers (`s`); an `id`
 * shared by copies (so a NULL check or a packet range proven on one copy holds
 * for all), the proven packet `range`, and the map a map pointer refers to.
 */
import { constScalar, scalarToString, unknownScalar, type Scalar } from './scalar.js';

export type RegType =
  | 'not_init'
  | 'scalar'
  | 'ctx'
  | 'pkt'
  | 'pkt_meta'
  | 'pkt_end'
  | 'map_ptr'
  | 'map_value'
  | 'map_value_or_null'
  | 'fp'
  | 'ringbuf_mem'
  | 'ringbuf_mem_or_null'
  | 'btf_id'
  | 'btf_id_or_null';

export interface RegState {
  readonly type: RegType;
  /** Fixed byte offset of a pointer from its base. */
  readonly off: number;
  /** A scalar's value, or a pointer's variable offset. */
  readonly s: Scalar;
  /** Shared by copies of one pointer (and of one maybe-NULL value); 0 when none. */
  readonly id: number;
  /** Packet pointers: bytes from the base proven below data_end (or data for data_meta). */
  readonly range: number;
  /** map_ptr / map_value(_or_null): index of the map. */
  readonly map: number;
  /** ringbuf_mem: the reservation's size. */
  readonly memSize: number;
  /** Stack pointers: the frame they point into. */
  readonly frame: number;
  /** btf_id pointers (PTR_TO_BTF_ID): the kernel struct they point to, by its BTF id and name. */
  readonly btf?: { readonly id: number; readonly name: string };
}

const ZERO = constScalar(0n);

export const NOT_INIT: RegState = { type: 'not_init', off: 0, s: ZERO, id: 0, range: 0, map: -1, memSize: 0, frame: 0 };

export const scalarReg = (s: Scalar, id = 0): RegState => ({ ...NOT_INIT, type: 'scalar', s, id });
export const unknownReg = (): RegState => scalarReg(unknownScalar());
export const constReg = (v: bigint): RegState => scalarReg(constScalar(v));
export const pointerReg = (type: RegType, fields: Partial<RegState> = {}): RegState => ({ ...NOT_INIT, type, s: ZERO, ...fields });

export const isPointer = (r: RegState): boolean => r.type !== 'scalar' && r.type !== 'not_init';
export const isPacket = (r: RegState): boolean => r.type === 'pkt' || r.type === 'pkt_meta';
export const maybeNull = (r: RegState): boolean => r.type === 'map_value_or_null' || r.type === 'ringbuf_mem_or_null' || r.type === 'btf_id_or_null';

const NAMES: Readonly<Record<RegType, string>> = {
  not_init: '?', scalar: 'scalar', ctx: 'ctx', pkt: 'pkt', pkt_meta: 'pkt_meta', pkt_end: 'pkt_end',
  map_ptr: 'map_ptr', map_value: 'map_value', map_value_or_null: 'map_value_or_null', fp: 'fp',
  ringbuf_mem: 'mem', ringbuf_mem_or_null: 'mem_or_null', btf_id: 'ptr_', btf_id_or_null: 'ptr_or_null_',
};

/** The kernel's name of a register type, as its messages use it ("R1 type=scalar expected=fp"). */
export const typeName = (t: RegType): string => (t === 'scalar' ? 'scalar' : NAMES[t]);

/** What the log says of a map: its name, and key and value sizes. */
export interface MapLabel {
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
}

/**
 * One register as the kernel's log prints it: `ctx()`, `pkt(r=14)`, `fp-8`,
 * `map_value(map=.bss,ks=4,vs=8)`, `scalar(umax=255,var_off=(0x0; 0xff))`.
 */
export function regToString(r: RegState, mapOf: (i: number) => MapLabel | undefined): string {
  if (r.type === 'scalar') return scalarToString(r.s);
  if (r.type === 'fp') return `fp${r.off === 0 ? '0' : r.off}`;
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.type === 'map_value' || r.type === 'map_value_or_null' || r.type === 'map_ptr') {
    const m = mapOf(r.map);
    parts.push(m ? `map=${m.name},ks=${m.keySize},vs=${m.valueSize}` : `map=#${r.map}`);
  }
  if (r.off) parts.push(`off=${r.off}`);
  if (r.type === 'pkt' || r.type === 'pkt_meta') parts.push(`r=${r.range < 0 ? `0x${BigInt.asUintN(64, BigInt(r.range)).toString(16)}` : r.range}`);
  if (r.type === 'ringbuf_mem' || r.type === 'ringbuf_mem_or_null') parts.push(`sz=${r.memSize}`);
  const v = scalarToString(r.s);
  if (v !== '0') parts.push(v);
  if (r.btf) return `${NAMES[r.type]}${r.btf.name}(${parts.join(',')})`;
  return `${NAMES[r.type]}(${parts.join(',')})`;
}

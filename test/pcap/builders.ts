/**
 * Hand-made capture files for the reader tests: classic pcap in either byte
 * order and resolution with arbitrary (also wrong) record headers, and pcapng
 * built block by block. Every length can be overridden, so the bad-file tests
 * can write exactly the defect they are about.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A growing byte buffer with typed writes in one byte order. */
export class Bytes {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;
  constructor(readonly le = true) {}

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): this {
    this.room(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.view.setUint16(this.length, v, this.le);
    this.length += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.view.setUint32(this.length, v >>> 0, this.le);
    this.length += 4;
    return this;
  }
  i64(v: bigint): this {
    this.room(8);
    this.view.setBigInt64(this.length, v, this.le);
    this.length += 8;
    return this;
  }
  raw(bytes: Uint8Array): this {
    this.room(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }
  pad4(): this {
    while (this.length % 4 !== 0) this.u8(0);
    return this;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Bytes 0..n-1 of a recognisable pattern seeded by `seed`. */
export function payload(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

export interface PcapRecordSpec {
  tsSec?: number;
  tsFrac?: number;
  data: Uint8Array;
  /** Written as incl_len; data.length by default. */
  inclLen?: number;
  /** data.length by default. */
  origLen?: number;
}

export interface PcapSpec {
  le?: boolean;
  nanosecond?: boolean;
  snapLen?: number;
  linkType?: number;
  versionMajor?: number;
  versionMinor?: number;
  magic?: number;
  records: PcapRecordSpec[];
}

/** A classic pcap file. */
export function buildPcap(spec: PcapSpec): Uint8Array {
  const b = new Bytes(spec.le ?? true);
  b.u32(spec.magic ?? (spec.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4));
  b.u16(spec.versionMajor ?? 2).u16(spec.versionMinor ?? 4);
  b.u32(0).u32(0);
  b.u32(spec.snapLen ?? 262144).u32(spec.linkType ?? 1);
  spec.records.forEach((r, i) => {
    b.u32(r.tsSec ?? 1_700_000_000 + i).u32(r.tsFrac ?? i * 10);
    b.u32(r.inclLen ?? r.data.length).u32(r.origLen ?? r.data.length);
    b.raw(r.data);
  });
  return b.bytes();
}

/** One pcapng option: code, length, value padded to 4. */
export interface NgOption {
  code: number;
  value: Uint8Array;
  /** Written as the option length; value.length by default. */
  length?: number;
}

/** A pcapng block: type, total length, body (padded), total length again. */
export function ngBlock(le: boolean, type: number, body: Uint8Array, opts: { len?: number; trailer?: number } = {}): Uint8Array {
  const b = new Bytes(le);
  const padded = (body.length + 3) & ~3;
  const len = 12 + padded;
  b.u32(type).u32(opts.len ?? len).raw(body);
  while (b.length < 8 + padded) b.u8(0);
  b.u32(opts.trailer ?? opts.len ?? len);
  return b.bytes();
}

function optionBytes(le: boolean, options: NgOption[]): Uint8Array {
  if (options.length === 0) return new Uint8Array(0);
  const b = new Bytes(le);
  for (const o of options) {
    b.u16(o.code).u16(o.length ?? o.value.length).raw(o.value).pad4();
  }
  b.u16(0).u16(0);
  return b.bytes();
}

export function shb(le: boolean, opts: { major?: number; minor?: number; bom?: number } = {}): Uint8Array {
  const b = new Bytes(le);
  b.u32(opts.bom ?? 0x1a2b3c4d).u16(opts.major ?? 1).u16(opts.minor ?? 0).i64(-1n);
  return ngBlock(le, 0x0a0d0d0a, b.bytes());
}

export interface IdbSpec {
  linkType?: number;
  snapLen?: number;
  tsresol?: number;
  tsoffset?: bigint;
  options?: NgOption[];
}

export function idb(le: boolean, spec: IdbSpec = {}): Uint8Array {
  const b = new Bytes(le);
  b.u16(spec.linkType ?? 1).u16(0).u32(spec.snapLen ?? 0);
  const options: NgOption[] = [...(spec.options ?? [])];
  if (spec.tsresol !== undefined) options.push({ code: 9, value: Uint8Array.of(spec.tsresol) });
  if (spec.tsoffset !== undefined) options.push({ code: 14, value: new Bytes(le).i64(spec.tsoffset).bytes() });
  b.raw(optionBytes(le, options));
  return ngBlock(le, 1, b.bytes());
}

export interface EpbSpec {
  ifid?: number;
  /** Timestamp in interface units. */
  ts?: bigint;
  data: Uint8Array;
  capLen?: number;
  origLen?: number;
  options?: NgOption[];
  len?: number;
}

export function epb(le: boolean, spec: EpbSpec): Uint8Array {
  const b = new Bytes(le);
  const ts = spec.ts ?? 0n;
  b.u32(spec.ifid ?? 0).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn));
  b.u32(spec.capLen ?? spec.data.length).u32(spec.origLen ?? spec.data.length);
  b.raw(spec.data).pad4();
  b.raw(optionBytes(le, spec.options ?? []));
  return ngBlock(le, 6, b.bytes(), spec.len !== undefined ? { len: spec.len } : {});
}

/** Obsolete Packet Block (16-bit interface id, 16-bit drops count). */
export function pb(le: boolean, spec: EpbSpec): Uint8Array {
  const b = new Bytes(le);
  const ts = spec.ts ?? 0n;
  b.u16(spec.ifid ?? 0).u16(0).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn));
  b.u32(spec.capLen ?? spec.data.length).u32(spec.origLen ?? spec.data.length);
  b.raw(spec.data).pad4();
  return ngBlock(le, 2, b.bytes());
}

export function spb(le: boolean, data: Uint8Array, origLen = data.length): Uint8Array {
  const b = new Bytes(le);
  b.u32(origLen).raw(data).pad4();
  return ngBlock(le, 3, b.bytes());
}

export { concatBytes } from '../../xdp/bytes/concat.js';

/** A temporary directory with a writer of files into it; `cleanup()` removes it. */
export function tempDir(prefix: string): { dir: string; write(name: string, bytes: Uint8Array): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(name, bytes) {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Test-only: real kernel maps through bpftool, as the oracle for the host maps.
 * Maps are pinned under one directory in /sys/fs/bpf that `cleanup()` removes.
 * Errors come back as negative errno values, read from bpftool's strerror text.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, type JsonValue } from '../../xdp/maps/json-text.js';

/** Why the kernel cannot be used here, or undefined when it can. */
export function kernelUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('bpftool', ['version'], { stdio: 'ignore' }).status !== 0) return 'bpftool not found (apt-get install bpftool)';
  const mounts = existsSync('/proc/mounts') ? readFileSync('/proc/mounts', 'utf8') : '';
  if (!/ \/sys\/fs\/bpf bpf /.test(mounts)) return 'no bpf filesystem mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)';
  return undefined;
}

/** glibc's strerror texts for the errnos the map code returns. */
const STRERROR: Record<string, number> = {
  'Operation not permitted': 1,
  'No such file or directory': 2,
  'Argument list too long': 7,
  'Bad file descriptor': 9,
  'Resource temporarily unavailable': 11,
  'Cannot allocate memory': 12,
  'Permission denied': 13,
  'File exists': 17,
  'No such device': 19,
  'Invalid argument': 22,
  'No space left on device': 28,
  'Value too large for defined data type': 75,
  'Operation not supported': 95,
  'Unknown error 524': 524,
};

export function errnoFromText(text: string): number {
  for (const [msg, n] of Object.entries(STRERROR)) if (text.includes(msg)) return -n;
  if (/empty map/.test(text)) return -2;
  throw new Error(`cannot read an errno from bpftool's message: ${text.trim()}`);
}

const hexArgs = (b: Uint8Array): string[] => (b.length === 0 ? [] : ['hex', ...Array.from(b, (x) => x.toString(16).padStart(2, '0'))]);

function bpftool(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export type UpdateFlagName = 'any' | 'noexist' | 'exist';

export interface KernelEntry {
  key: Uint8Array;
  /** One per CPU for per-CPU maps. */
  values: Uint8Array[];
}

const bytesOf = (v: JsonValue | undefined): Uint8Array => Uint8Array.from(v as string[], (s) => parseInt(s, 16));

export class KernelMaps {
  readonly dir: string;
  private n = 0;

  constructor(tag: string) {
    this.dir = join('/sys/fs/bpf', `xdp-offload-maps-${tag}-${process.pid}`);
    mkdirSync(this.dir, { recursive: true });
  }

  /** BPF_MAP_CREATE through bpftool: the map's pin path, or -errno. */
  create(type: string, keySize: number, valueSize: number, maxEntries: number, flags = 0, innerPin?: string): KernelMap | number {
    const path = join(this.dir, `m${this.n++}`);
    const args = ['map', 'create', path, 'type', type, 'key', String(keySize), 'value', String(valueSize), 'entries', String(maxEntries), 'name', `t${this.n}`];
    if (flags !== 0) args.push('flags', String(flags));
    if (innerPin !== undefined) args.push('inner_map', 'pinned', innerPin);
    const r = bpftool(args);
    return r.status === 0 ? new KernelMap(path) : errnoFromText(r.stderr);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class KernelMap {
  constructor(readonly path: string) {}

  update(key: Uint8Array, value: Uint8Array, flag: UpdateFlagName = 'any'): number {
    const r = bpftool(['map', 'update', 'pinned', this.path, 'key', ...hexArgs(key), 'value', ...hexArgs(value), flag]);
    return r.status === 0 ? 0 : errnoFromText(r.stderr);
  }

  /** Update whose value is another pinned map (map-in-map). */
  updateWithMap(key: Uint8Array, innerPin: string): number {
    const r = bpftool(['map', 'update', 'pinned', this.path, 'key', ...hexArgs(key), 'value', 'pinned', innerPin]);
    return r.status === 0 ? 0 : errnoFromText(r.stderr);
  }

  delete(key: Uint8Array): number {
    const r = bpftool(['map', 'delete', 'pinned', this.path, 'key', ...hexArgs(key)]);
    return r.status === 0 ? 0 : errnoFromText(r.stderr);
  }

  /** The value(s), or -errno. */
  lookup(key: Uint8Array): Uint8Array[] | number {
    const r = bpftool(['map', 'lookup', 'pinned', this.path, 'key', ...hexArgs(key), '-j']);
    if (r.status !== 0 || r.stdout.trim() === 'null' || r.stdout.trim() === '') {
      return r.stderr.trim() === '' && r.stdout.trim() === 'null' ? -2 : errnoFromText(r.stderr + r.stdout);
    }
    const e = parseJson(r.stdout) as { value?: JsonValue; values?: { value: JsonValue }[] };
    return e.values !== undefined ? e.values.map((x) => bytesOf(x.value)) : [bytesOf(e.value)];
  }

  push(value: Uint8Array): number {
    const r = bpftool(['map', 'push', 'pinned', this.path, 'value', ...hexArgs(value)]);
    return r.status === 0 ? 0 : errnoFromText(r.stderr);
  }

  /** pop/peek: the value or -errno. */
  take(peek: boolean): Uint8Array | number {
    const r = bpftool(['map', peek ? 'peek' : 'pop', 'pinned', this.path, '-j']);
    if (r.stdout.trim() === 'null') return -2; // bpftool -j: "null" for an empty queue or stack
    if (r.status !== 0) return errnoFromText(r.stderr + r.stdout);
    const e = parseJson(r.stdout) as { value: JsonValue };
    return bytesOf(e.value);
  }

  /** `bpftool map dump -j`, parsed (integers beyond 2^53 as bigint). */
  dumpJson(): JsonValue[] {
    const r = bpftool(['map', 'dump', 'pinned', this.path, '-j']);
    if (r.status !== 0) throw new Error(`bpftool map dump failed: ${r.stderr}`);
    return parseJson(r.stdout) as JsonValue[];
  }

  /** The entries a dump shows (entries whose lookup fails are left out). */
  entries(): KernelEntry[] {
    return (this.dumpJson() as { key: JsonValue; value?: JsonValue; values?: { value: JsonValue }[] }[])
      .filter((e) => e.values !== undefined || Array.isArray(e.value))
      .map((e) => ({ key: bytesOf(e.key), values: e.values !== undefined ? e.values.map((x) => bytesOf(x.value)) : [bytesOf(e.value)] }));
  }
}

/** Possible CPUs as the kernel counts them (/sys/devices/system/cpu/possible): per-CPU maps hold this many values. */
export function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  let n = 0;
  for (const part of text.split(',')) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a! + 1;
  }
  return n;
}

/**
 * Buffers handed to bpf() are sized from the kernel's own numbers (issue 10, point 1). A per-CPU map
 * value holds one slot per possible CPU whatever --cpus says: the kernel engine once sized it by
 * --cpus (default 1) and the kernel wrote past it (`free(): invalid next size`, the process
 * aborted). Now every map call takes its sizes from the map's info and refuses a caller's size that
 * differs before the call, and the kernel engine's CPUs are the kernel's possible CPUs.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BufferSizeError, closeFd, mapCreate, mapLookup, mapUpdate, mapValueBytes, possibleCpus,
} from '../../xdp/kernel/bpf-syscall.js';
import { kernelAvailable, loadObjectIntoKernel } from '../../xdp/kernel/kernel-oracle.js';
import { loadObjectFile } from '../../xdp/object/load-object.js';
import { FIXTURE_OBJ, REPO } from '../support/paths.js';

const kernel = kernelAvailable();
const why = !kernel.ok ? kernel.reason : !kernel.privileged ? 'not privileged (the fixtures load as root)' : undefined;
if (why) console.log(`SKIP FFI buffer checks: ${why}`);

const PERCPU_ARRAY = 6;
const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

describe.skipIf(why !== undefined)('buffers handed to bpf()', () => {
  it('a per-CPU value is sized by the possible CPUs; any other size is refused before the call', () => {
    const fd = mapCreate({ type: PERCPU_ARRAY, keySize: 4, valueSize: 12, maxEntries: 2 });
    try {
      const cpus = possibleCpus();
      expect(mapValueBytes(fd)).toEqual({ keySize: 4, valueBytes: 16 * cpus });
      expect(mapLookup(fd, u32(0)).length).toBe(16 * cpus);
      expect(() => mapLookup(fd, u32(0), 16 * cpus + 16)).toThrow(BufferSizeError);
      // One CPU's worth (what --cpus 1 gave): refused unless this machine has one CPU.
      if (cpus > 1) {
        expect(() => mapLookup(fd, u32(0), 16)).toThrow(BufferSizeError);
        expect(() => mapUpdate(fd, u32(0), new Uint8Array(16))).toThrow(/update value for map fd \d+: 16 bytes, the kernel uses/);
      }
      expect(() => mapLookup(fd, new Uint8Array(8))).toThrow(/lookup key for map fd \d+: 8 bytes, the kernel uses 4/);
      mapUpdate(fd, u32(1), new Uint8Array(16 * cpus).fill(7));
      expect([...mapLookup(fd, u32(1)).subarray(0, 12)]).toEqual(new Array(12).fill(7));
    } finally {
      closeFd(fd);
    }
  });

  it('the kernel engine takes the kernel\'s CPUs; another number is an error, not a short buffer', () => {
    const obj = loadObjectFile(join(FIXTURE_OBJ, 'proto_count_percpu.o'));
    const other = possibleCpus() === 1 ? 2 : 1;
    expect(() => loadObjectIntoKernel(obj, { cpus: other })).toThrow(/one value per possible CPU, and this machine has \d+/);
    const k = loadObjectIntoKernel(obj);
    try {
      expect(k.cpus).toBe(possibleCpus());
      expect(k.lookupMap('proto_stats_percpu', u32(17))?.length).toBe(possibleCpus());
    } finally {
      k.close();
    }
  });

  it('offload run --engine kernel on a per-CPU map ends normally, and --cpus names only the possible CPUs there', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(REPO, 'bin', 'offload.js'), 'run', join(FIXTURE_OBJ, 'proto_count_percpu.o'),
      '--pcap', join(REPO, 'fixtures', 'pcap', 'mixed.pcap'), '--engine', 'kernel', '--no-progress', '--json', ...args], { encoding: 'utf8' });
    const ok = cli();
    expect([ok.status, ok.signal, ok.stderr]).toEqual([0, null, '']);
    const doc = JSON.parse(ok.stdout);
    const entry = doc.maps[0].entries.find((e: { key: number }) => e.key === 17);
    expect(entry.values.length).toBe(possibleCpus());
    const bad = cli('--cpus', String(possibleCpus() + 1));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^offload: --cpus \d+ with --engine kernel: the kernel's per-CPU maps hold one value per possible CPU, and this machine has \d+/);
  });
});

/**
 * Multi-buffer frames: a packet longer than the 3520 bytes of an XDP frame's
 * linear part runs as bpf_prog_test_run_xdp builds it (the rest in page
 * fragments, at most 17), for xdp.frags programs and others alike. The frame
 * layout and the fragment-aware helpers are checked here on their own, then
 * against the running kernel with random lengths, offsets and deltas
 * (fast-check): the same program and packet in both host engines and in
 * BPF_PROG_TEST_RUN must give the same action and the same bytes.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../xdp/asm/assembler.js';
import { encode } from '../../xdp/isa/insn.js';
import { kernelAvailable, loadObjectIntoKernel, type KernelObject } from '../../xdp/kernel/kernel-oracle.js';
import { loadObject, loadObjectFile } from '../../xdp/object/load-object.js';
import { openPcapFile } from '../../xdp/pcap/pcap-writer.js';
import { kernelPacketEngine } from '../../xdp/replay/kernel-engine.js';
import { replayCapture } from '../../xdp/replay/replay.js';
import { Memory } from '../../xdp/runtime/memory.js';
import {
  adjustTail, buffLength, copyPacket, createXdpBuff, loadPacket, MAX_SKB_FRAGS, packetData, XDP_FRAG_SIZE, XDP_MAX_DATA, XDP_MAX_PACKET,
} from '../../xdp/runtime/xdp-buff.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { miniElf } from '../support/mini-elf.js';
import { FIXTURE_OBJ } from '../support/paths.js';

const bytesOf = (n: number, seed = 7): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed + (i >> 8)) & 0xff);

describe('the multi-buffer frame', () => {
  const fresh = () => createXdpBuff(new Memory());

  it('keeps 3520 bytes in the frame and cuts the rest into pages, as the test run does', () => {
    const xdp = fresh();
    const p = bytesOf(XDP_MAX_DATA + 2 * XDP_FRAG_SIZE + 5);
    loadPacket(xdp, p);
    expect(xdp.packet.hi - xdp.data).toBe(XDP_MAX_DATA);
    expect([xdp.nrFrags, xdp.fragLen.slice(0, 3), xdp.fragsSize]).toEqual([3, [4096, 4096, 5], 2 * 4096 + 5]);
    expect(buffLength(xdp)).toBe(p.length);
    expect(Buffer.from(packetData(xdp)).equals(Buffer.from(p))).toBe(true);
    // A short packet after a long one has no fragments left over.
    loadPacket(xdp, p.subarray(0, 100));
    expect([xdp.nrFrags, xdp.fragsSize, buffLength(xdp)]).toEqual([0, 0, 100]);
  });

  it('takes up to 3520 + 17 pages and refuses one byte more', () => {
    const xdp = fresh();
    expect(XDP_MAX_PACKET).toBe(3520 + MAX_SKB_FRAGS * 4096);
    loadPacket(xdp, bytesOf(XDP_MAX_PACKET));
    expect(xdp.nrFrags).toBe(17);
    expect(() => loadPacket(xdp, bytesOf(XDP_MAX_PACKET + 1))).toThrow(/73153 bytes is longer than an XDP test run takes \(73152/);
  });

  it('copies across the linear part and the fragments in both directions', () => {
    const xdp = fresh();
    const p = bytesOf(XDP_MAX_DATA + XDP_FRAG_SIZE + 300);
    loadPacket(xdp, p);
    fc.assert(fc.property(fc.nat(p.length - 1), fc.nat(5000), (off, want) => {
      const len = Math.min(want, p.length - off);
      const buf = new Uint8Array(len + 3);
      copyPacket(xdp, off, buf, 3, len, false);
      buf.copyWithin(0, 3);
      buf.fill(0, len);
      expect(Buffer.from(buf.subarray(0, len)).equals(Buffer.from(p.subarray(off, off + len)))).toBe(true);
    }), { numRuns: 300 });
    const stamp = Uint8Array.of(1, 2, 3, 4, 5, 6);
    copyPacket(xdp, XDP_MAX_DATA - 3, stamp, 0, stamp.length, true);
    expect([...packetData(xdp).subarray(XDP_MAX_DATA - 3, XDP_MAX_DATA + 3)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...xdp.frags[0]!.subarray(0, 3)]).toEqual([4, 5, 6]);
  });

  it('adjust_tail grows the last fragment to its page and shrinks back through the fragments into the frame', () => {
    const xdp = fresh();
    loadPacket(xdp, bytesOf(XDP_MAX_DATA + XDP_FRAG_SIZE + 100));
    expect(adjustTail(xdp, XDP_FRAG_SIZE - 100 + 1)).toBe(-22);
    expect(adjustTail(xdp, XDP_FRAG_SIZE - 100)).toBe(0);
    expect(xdp.fragLen.slice(0, 2)).toEqual([4096, 4096]);
    expect([...xdp.frags[1]!.subarray(100, 4096)].every((b) => b === 0)).toBe(true);
    // Shrink by one page and ten bytes: the last fragment goes, the first loses ten bytes.
    expect(adjustTail(xdp, -(XDP_FRAG_SIZE + 10))).toBe(0);
    expect([xdp.nrFrags, xdp.fragLen[0], buffLength(xdp)]).toEqual([1, 4086, XDP_MAX_DATA + 4086]);
    // Through the last fragment into the frame, which then has no fragments and grows within its tailroom again.
    expect(adjustTail(xdp, -(4086 + 20))).toBe(0);
    expect([xdp.nrFrags, buffLength(xdp)]).toEqual([0, XDP_MAX_DATA - 20]);
    expect(adjustTail(xdp, 21)).toBe(-22);
    expect(adjustTail(xdp, 20)).toBe(0);
    // Never below an Ethernet header.
    loadPacket(xdp, bytesOf(XDP_MAX_DATA + 10));
    expect(adjustTail(xdp, -(XDP_MAX_DATA + 10 - 13))).toBe(-22);
    expect(adjustTail(xdp, -(XDP_MAX_DATA + 10 - 14))).toBe(0);
    expect(buffLength(xdp)).toBe(14);
  });

  it('a packet beyond the limit is aborted with the reason, and the replay skips and counts it', () => {
    const obj = loadObjectFile(join(FIXTURE_OBJ, 'basic_actions.o'));
    const m = new XdpMachine(obj, obj.programs.find((p) => p.name === 'xdp_pass_all')!, { engine: 'compiled' });
    const big = m.run(bytesOf(XDP_MAX_PACKET + 1), 0);
    expect([big.actionName, big.error]).toEqual(['XDP_ABORTED', expect.stringMatching(/longer than an XDP test run takes/)]);
    const ok = m.run(bytesOf(XDP_MAX_PACKET), 1);
    expect([ok.actionName, ok.length]).toEqual(['XDP_PASS', XDP_MAX_PACKET]);

    const dir = mkdtempSync(join(tmpdir(), 'mb-'));
    try {
      const file = join(dir, 'edge.pcap');
      const w = openPcapFile(file, { linkType: 1 });
      for (const n of [60, XDP_MAX_DATA + 1, XDP_MAX_PACKET, XDP_MAX_PACKET + 1]) w.write(bytesOf(n), 1, 0, n);
      w.close();
      const s = replayCapture(m, { capture: file });
      expect(s.actions.XDP_PASS).toBe(3);
      expect(Object.values(s.skippedByReason)).toEqual([1]);
      expect(Object.keys(s.skippedByReason)[0]).toMatch(/longer than an XDP test run takes \(73152 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- against the kernel

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`SKIP multi-buffer runs against the kernel: ${kernel.reason}`);

/** Reads a signed 32-bit delta from packet bytes 14..17 with bpf_xdp_load_bytes and calls bpf_xdp_adjust_tail with it. */
const ADJUST_TAIL = `
    mov %r6, %r1
    mov %r2, 14
    mov %r3, %r10
    add %r3, -8
    mov %r4, 4
    call 189
    jne %r0, 0, aborted
    ldxw %r2, [%r10-8]
    lsh %r2, 32
    arsh %r2, 32
    mov %r1, %r6
    call 65
    jne %r0, 0, drop
    mov %r0, 2
    exit
  drop:
    mov %r0, 1
    exit
  aborted:
    mov %r0, 0
    exit`;

/**
 * Reads (offset, length, destination) from bytes 14..25, loads `length & 255` (at least 1) bytes at
 * `offset` into the stack and stores them back at `destination`: XDP_PASS when both work, XDP_DROP
 * on -EINVAL, XDP_TX on -EFAULT, XDP_ABORTED otherwise; the frame's length stays r0's witness.
 */
const LOAD_STORE = `
    mov %r6, %r1
    mov %r2, 14
    mov %r3, %r10
    add %r3, -16
    mov %r4, 12
    call 189
    jne %r0, 0, aborted
    ldxw %r7, [%r10-12]
    and %r7, 255
    jne %r7, 0, sized
    mov %r7, 1
  sized:
    mov %r1, %r6
    ldxw %r2, [%r10-16]
    mov %r3, %r10
    add %r3, -272
    mov %r4, %r7
    call 189
    jne %r0, 0, failed
    mov %r1, %r6
    ldxw %r2, [%r10-8]
    mov %r3, %r10
    add %r3, -272
    mov %r4, %r7
    call 190
    jne %r0, 0, failed
    mov %r0, 2
    exit
  failed:
    mov %r1, %r0
    mov %r0, 1
    jeq %r1, -22, out
    mov %r0, 3
    jeq %r1, -14, out
  aborted:
    mov %r0, 0
  out:
    exit`;

function engines(asm: string): { run: (p: Uint8Array) => string[]; close: () => void } {
  const obj = loadObject(miniElf(encode(assemble(asm))), 'asm.o');
  const hosts = (['compiled', 'interp'] as const).map((e) => new XdpMachine(obj, obj.programs[0]!, { engine: e }));
  const k: KernelObject = loadObjectIntoKernel(obj);
  const kernelEngine = kernelPacketEngine(k);
  const show = (r: { actionName: string; bytes(): Uint8Array }) => `${r.actionName} ${Buffer.from(r.bytes()).toString('hex')}`;
  return {
    run: (p) => [...hosts.map((h) => show(h.run(p, 0))), show(kernelEngine.run(p, 0))],
    close: () => k.close(),
  };
}

const lengths = fc.oneof(
  fc.integer({ min: 14, max: XDP_MAX_PACKET }),
  fc.constantFrom(14, XDP_MAX_DATA, XDP_MAX_DATA + 1, XDP_MAX_DATA + XDP_FRAG_SIZE, XDP_MAX_DATA + XDP_FRAG_SIZE + 1, XDP_MAX_PACKET),
);

function framed(len: number, words: readonly number[]): Uint8Array {
  const p = bytesOf(len, len & 0xff);
  const v = new DataView(p.buffer);
  words.forEach((w, i) => {
    if (14 + 4 * i + 4 <= len) v.setUint32(14 + 4 * i, w >>> 0, true);
  });
  return p;
}

describe.skipIf(!kernel.ok)('multi-buffer runs agree with BPF_PROG_TEST_RUN', () => {
  it('bpf_xdp_adjust_tail by any delta on any length', () => {
    const e = engines(ADJUST_TAIL);
    const seen = new Set<string>();
    try {
      fc.assert(fc.property(lengths, fc.oneof(fc.integer({ min: -80000, max: 5000 }), fc.integer({ min: -5000, max: 100 })), (len, delta) => {
        const [a, b, k] = e.run(framed(Math.max(len, 18), [delta]));
        expect(a, `len ${len} delta ${delta}`).toBe(k);
        expect(b, `len ${len} delta ${delta}`).toBe(k);
        seen.add(k!.split(' ')[0]!);
      }), { numRuns: 150, seed: 9 });
      expect([...seen].sort()).toEqual(['XDP_DROP', 'XDP_PASS']);
    } finally {
      e.close();
    }
  });

  it('bpf_xdp_load_bytes / store_bytes at any offset, across the fragments', () => {
    const e = engines(LOAD_STORE);
    const seen = new Set<string>();
    try {
      const offset = (len: number) => fc.oneof(fc.integer({ min: 0, max: len + 300 }), fc.integer({ min: 0, max: 0x1_0100 }), fc.constant(XDP_MAX_DATA - 3));
      fc.assert(fc.property(
        lengths.chain((len) => fc.tuple(fc.constant(Math.max(len, 26)), offset(len), fc.integer({ min: 0, max: 300 }), offset(len))),
        ([len, off, size, dst]) => {
          const [a, b, k] = e.run(framed(len, [off, size, dst]));
          expect(a, `len ${len} off ${off} size ${size} dst ${dst}`).toBe(k);
          expect(b, `len ${len} off ${off} size ${size} dst ${dst}`).toBe(k);
          seen.add(k!.split(' ')[0]!);
        },
      ), { numRuns: 150, seed: 11 });
      // Each outcome happened: both calls worked, -EINVAL (past the end), -EFAULT (past 0xffff).
      expect([...seen].sort()).toEqual(['XDP_DROP', 'XDP_PASS', 'XDP_TX']);
    } finally {
      e.close();
    }
  });
});

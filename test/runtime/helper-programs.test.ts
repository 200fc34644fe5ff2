/**
 * Helpers whose results the kernel can check, in small programs assembled here
 * and wrapped in an ELF object: csum_diff, and the limits of
 * bpf_xdp_adjust_head/tail/meta — the same program, the same packet, in the
 * host engines and through BPF_PROG_TEST_RUN.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../xdp/asm/assembler.js';
import { encode } from '../../xdp/isa/insn.js';
import { kernelAvailable, loadObjectIntoKernel } from '../../xdp/kernel/kernel-oracle.js';
import { loadObject } from '../../xdp/object/load-object.js';
import { kernelPacketEngine } from '../../xdp/replay/kernel-engine.js';
import type { PacketEngine } from '../../xdp/replay/replay.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { miniElf } from '../support/mini-elf.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`SKIP kernel side of the helper programs: ${kernel.reason}`);

function objectOf(asm: string) {
  return loadObject(miniElf(encode(assemble(asm))), 'asm.o');
}

/** Run `packet` through the program in every engine; the results must agree. */
function outcomes(asm: string, packet: Uint8Array): string[] {
  const obj = objectOf(asm);
  const engines: [string, () => PacketEngine & { close?: () => void }][] = [
    ['compiled', () => new XdpMachine(obj, obj.programs[0]!, { engine: 'compiled' })],
    ['interp', () => new XdpMachine(obj, obj.programs[0]!, { engine: 'interp' })],
  ];
  if (kernel.ok) {
    engines.push(['kernel', () => {
      const k = loadObjectIntoKernel(obj);
      return { ...kernelPacketEngine(k), close: () => k.close() };
    }]);
  }
  return engines.map(([name, make]) => {
    const e = make();
    try {
      const r = e.run(packet, 0);
      return `${name}: ${r.actionName} ${Buffer.from(r.bytes()).toString('hex')}`;
    } finally {
      e.close?.();
    }
  });
}

const agree = (results: string[]) => {
  const bodies = results.map((r) => r.slice(r.indexOf(':') + 2));
  expect(new Set(bodies).size, results.join('\n')).toBe(1);
  return bodies[0]!;
};

const packet = Uint8Array.from({ length: 60 }, (_, i) => (i * 37 + 11) & 0xff);

describe('helpers agree between the host engines and, where it runs, the kernel', () => {
  // Without the kernel the engines are still held to each other; this test says, skipped, that the kernel was not.
  it.skipIf(!kernel.ok)(`the kernel is one of the engines compared${kernel.ok ? '' : ` (skipped: ${kernel.reason})`}`, () => {
    expect(outcomes('mov %r0, 2\nexit', packet).map((r) => r.slice(0, r.indexOf(':')))).toEqual(['compiled', 'interp', 'kernel']);
  });

  it.each([0, 0x12345, 0xffffffff])('bpf_csum_diff over 20 packet bytes, seed %i', (seed) => {
    const asm = `
      mov %r6, %r1
      ldxw %r7, [%r6+0]
      ldxw %r8, [%r6+4]
      mov %r9, %r7
      add %r9, 20
      jgt %r9, %r8, out
      mov %r1, 0
      mov %r2, 0
      mov %r3, %r7
      mov %r4, 20
      mov32 %r5, ${seed}
      call 28
      stxw [%r7+0], %r0
      mov %r0, 3
      exit
    out:
      mov %r0, 1
      exit`;
    const body = agree(outcomes(asm, packet));
    expect(body.startsWith('XDP_TX')).toBe(true);
  });

  /** A program that calls `helper(ctx, delta)` and passes the packet on success, drops it on failure. */
  const adjust = (helper: number, delta: number) => `
      mov %r2, ${delta}
      call ${helper}
      mov %r1, %r0
      mov %r0, 2
      jeq %r1, 0, done
      mov %r0, 1
    done:
      exit`;

  it.each([-216, -217, -1, 0, 46, 47])('bpf_xdp_adjust_head(%i) on a 60-byte packet', (delta) => {
    const body = agree(outcomes(adjust(44, delta), packet));
    expect(body.startsWith(delta >= -216 && delta <= 46 ? 'XDP_PASS' : 'XDP_DROP')).toBe(true);
  });

  it.each([-46, -47, 100, 3460, 3461])('bpf_xdp_adjust_tail(%i) on a 60-byte packet', (delta) => {
    const body = agree(outcomes(adjust(65, delta), packet));
    expect(body.startsWith(delta >= -46 && delta <= 3460 ? 'XDP_PASS' : 'XDP_DROP')).toBe(true);
  });

  it.each([-32, -36, -4, -6, 4, -216, -220])('bpf_xdp_adjust_meta(%i)', (delta) => {
    const body = agree(outcomes(adjust(54, delta), packet));
    expect(body.startsWith(delta <= 0 && delta >= -216 && delta % 4 === 0 ? 'XDP_PASS' : 'XDP_DROP')).toBe(true);
  });
});

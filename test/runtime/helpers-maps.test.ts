/**
 * Helpers that touch maps and the machine's sinks, in assembled programs run on
 * the host machine with hand-made map definitions: ring buffer output and
 * reserve/submit, perf events with a packet sample, queue push/pop, spin locks,
 * trace_printk capture, a seeded get_prandom_u32, and the refusal of a helper
 * the host does not provide.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../xdp/asm/assembler.js';
import { MAP_TYPE } from '../../xdp/maps/map-types.js';
import type { BpfObject, MapDef, Program } from '../../xdp/object/bpf-object.js';
import { programFromInsns } from '../../xdp/runtime/raw-program.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { makeLddw } from '../../xdp/isa/insn.js';
import { LddwSrc } from '../../xdp/isa/opcodes.js';

const map = (index: number, name: string, type: number, keySize: number, valueSize: number, maxEntries: number): MapDef =>
  ({ index, name, type, keySize, valueSize, maxEntries, flags: 0, pinning: 0, origin: 'btf', section: '.maps' });

const MAP_MARK = 0x5ee00000;

/** A program from asm, where `ld_map N, %rX` loads map N (an lddw with BPF_PSEUDO_MAP_IDX). */
function machine(asm: string, maps: MapDef[], opts: { seed?: number } = {}): XdpMachine {
  const text = asm.replace(/ld_map (\d+), %r(\d+)/g, (_m, n: string, r: string) => `lddw %r${r}, ${MAP_MARK + Number(n)}`);
  const insns = assemble(text).map((i) => (i.next && i.next.imm === 0 && i.imm >= MAP_MARK && i.imm < MAP_MARK + 16
    ? makeLddw(i.dst, BigInt(i.imm - MAP_MARK), LddwSrc.MAP_IDX)
    : i));
  const raw = programFromInsns('prog', insns);
  const program: Program = { ...raw, section: 'xdp', type: { progType: 'XDP', attach: 'XDP' }, sectionOffset: 0 };
  const obj: BpfObject = { file: 'asm', littleEndian: true, programs: [program], foreign: [], maps, hasBtf: false, hasLineInfo: false };
  return new XdpMachine(obj, program, { engine: 'compiled', ...opts });
}

const packet = Uint8Array.from({ length: 64 }, (_, i) => i);

describe('map and sink helpers on the host', () => {
  it('bpf_ringbuf_output and reserve/submit deliver records in order; discard drops one', () => {
    const m = machine(`
      stdw [%r10-8], 0x1234
      ld_map 0, %r1
      mov %r2, %r10
      add %r2, -8
      mov %r3, 8
      mov %r4, 0
      call 130
      ld_map 0, %r1
      mov %r2, 16
      mov %r3, 0
      call 131
      jeq %r0, 0, out
      stdw [%r0+0], 7
      mov %r1, %r0
      mov %r2, 0
      call 132
      ld_map 0, %r1
      mov %r2, 8
      mov %r3, 0
      call 131
      jeq %r0, 0, out
      mov %r1, %r0
      mov %r2, 0
      call 133
    out:
      mov %r0, 2
      exit`, [map(0, 'rb', MAP_TYPE.RINGBUF, 0, 0, 4096)]);
    expect(m.run(packet, 0).actionName).toBe('XDP_PASS');
    const records = (m.maps[0] as unknown as { records(): Uint8Array[] }).records();
    expect(records.map((r) => r.length)).toEqual([8, 16]);
    expect(records[0]![0]).toBe(0x34);
    expect(records[1]![0]).toBe(7);
  });

  it('bpf_perf_event_output appends the packet sample the flags ask for', () => {
    const m = machine(`
      mov %r6, %r1
      stw [%r10-4], 99
      ld_map 0, %r2
      lddw %r3, 0x0000000affffffff
      mov %r4, %r10
      add %r4, -4
      mov %r5, 4
      mov %r1, %r6
      call 25
      mov %r0, 2
      exit`, [map(0, 'events', MAP_TYPE.PERF_EVENT_ARRAY, 4, 4, 4)]);
    m.run(packet, 0);
    const events = (m.maps[0] as unknown as { events(): { data: Uint8Array }[] }).events();
    expect(events).toHaveLength(1);
    expect(Array.from(events[0]!.data)).toEqual([99, 0, 0, 0, ...Array.from(packet.subarray(0, 10))]);
  });

  it('bpf_map_push_elem / pop / peek on a QUEUE', () => {
    const m = machine(`
      stw [%r10-4], 5
      ld_map 0, %r1
      mov %r2, %r10
      add %r2, -4
      mov %r3, 0
      call 87
      stw [%r10-4], 6
      ld_map 0, %r1
      mov %r2, %r10
      add %r2, -4
      mov %r3, 0
      call 87
      ld_map 0, %r1
      mov %r2, %r10
      add %r2, -8
      call 88
      ldxw %r0, [%r10-8]
      exit`, [map(0, 'q', MAP_TYPE.QUEUE, 0, 4, 8)]);
    expect(m.run(packet, 0).retval).toBe(5);
    expect(m.maps[0]!.pop(true)).toEqual(Uint8Array.of(6, 0, 0, 0));
  });

  it('trace_printk lines are captured with the packet and CPU; get_prandom_u32 repeats for a seed', () => {
    const asm = `
      mov %r6, %r1
      stdw [%r10-8], 0
      stw [%r10-8], 0x64253d78
      call 7
      mov %r3, %r0
      mov %r1, %r10
      add %r1, -8
      mov %r2, 5
      call 6
      mov %r0, 2
      exit`;
    const a = machine(asm, [], { seed: 42 });
    const b = machine(asm, [], { seed: 42 });
    a.run(packet, 7, { cpu: 0 });
    b.run(packet, 7, { cpu: 0 });
    expect(a.trace).toHaveLength(1);
    expect(a.trace[0]).toMatchObject({ packet: 7, cpu: 0, text: expect.stringMatching(/^x=-?\d+$/) });
    expect(b.trace[0]!.text).toBe(a.trace[0]!.text);
    const c = machine(asm, [], { seed: 43 });
    c.run(packet, 7);
    expect(c.trace[0]!.text).not.toBe(a.trace[0]!.text);
  });

  it('a spin lock taken twice is a deadlock; a helper the host lacks is refused by name', () => {
    const lock = machine(`
      stdw [%r10-8], 0
      mov %r1, %r10
      add %r1, -8
      call 93
      mov %r1, %r10
      add %r1, -8
      call 93
      mov %r0, 2
      exit`, []);
    expect(lock.run(packet, 0)).toMatchObject({ actionName: 'XDP_ABORTED', error: expect.stringMatching(/insn 6: bpf_spin_lock on a lock this program already holds/) });
    const missing = machine('call 14\nmov %r0, 2\nexit', []);
    expect(missing.run(packet, 0).error).toMatch(/insn 0: call to helper 14 \(bpf_get_current_pid_tgid\), which the host engine does not provide/);
  });
});

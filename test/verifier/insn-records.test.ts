/**
 * The per-instruction records (offload/verifier/insn-records.ts): one per instruction, indexed as
 * the kernel counts, each with the facts of the registers it reads joined over every path — and
 * sound for a translator only from a walk with every scalar precise.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRecords, IMM } from '../../offload/verifier/insn-records.js';
import { loadObjectFile, selectProgram } from '../../xdp/object/load-object.js';
import { caseObject } from './case-loader.js';
import { FIXTURE_OBJ } from '../support/paths.js';

describe('instruction records', () => {
  it('one per instruction, at the kernel\'s index, with its function, C line and visits', () => {
    const obj = loadObjectFile(join(FIXTURE_OBJ, 'subprog_call.o'));
    const program = selectProgram(obj);
    const { result, records } = buildRecords(program, obj.maps);
    expect(result.ok).toBe(true);
    expect(records.records).toHaveLength(program.insns.length);
    records.records.forEach((r, pos) => {
      expect(r.pos).toBe(pos);
      expect(r.index).toBe(program.slots[pos]);
      expect(records.at(r.index)).toBe(r);
      if (r.insn.next) expect(records.at(r.index + 1)).toBeUndefined();
      expect(r.line).toEqual(program.lines[pos]);
    });
    // The callee in .text is function 1; its instructions say so, and its exit is not the program's.
    const calleeStart = program.funcs[1]!.slot;
    expect(records.at(calleeStart)!.func).toBe(1);
    const exits = records.records.filter((r) => r.kind.k === 'exit');
    expect(exits.filter((r) => r.programExit).every((r) => r.func === 0)).toBe(true);
    expect(exits.some((r) => r.func === 1 && !r.programExit)).toBe(true);
    expect(records.records.every((r) => r.visits > 0 || r.kind.k === 'ja' || r.func >= 0)).toBe(true);
  });

  it('facts of what an instruction reads: packet pointers with their proven range, map values with their map', () => {
    const obj = loadObjectFile(join(FIXTURE_OBJ, 'proto_count_array.o'));
    const { records } = buildRecords(selectProgram(obj), obj.maps);
    const packetLoads = records.records.filter((r) => r.kind.k === 'ldx' && r.reads[r.insn.src]?.types.has('pkt'));
    expect(packetLoads.length).toBeGreaterThan(0);
    for (const r of packetLoads) {
      const base = r.reads[r.insn.src]!;
      // Every path proved the bytes read are below data_end.
      expect(base.packetRange! >= base.offMax! + r.insn.off + (r.kind as { size: number }).size).toBe(true);
    }
    const atomic = records.records.find((r) => r.kind.k === 'atomic')!;
    expect([...atomic.reads[atomic.insn.dst]!.types]).toEqual(['map_value']);
    expect([...atomic.reads[atomic.insn.dst]!.maps]).toEqual([0]);
    // An immediate operand is a fact too, and a constant.
    const andImm = records.records.find((r) => r.kind.k === 'alu' && !r.kind.useReg && r.kind.op !== 'mov')!;
    expect(andImm.reads[IMM]!.constant).toBe(BigInt(andImm.insn.imm));
  });

  // r3 is 7 on the path walked first and 5 on the other; nothing needs r3 precisely, so the kernel's
  // walk, which keeps a checkpoint at the join (two jumps and eight instructions after the last),
  // cuts the second path there and has seen r3 = 7 only. Facts a translator relies on come from a
  // walk with every scalar precise, which keeps both.
  const joinCase = caseObject({
    name: 'records join',
    asm: [
      'ldxw %r2, [%r1+16]',
      'mov %r3, 5',
      'jeq %r2, 0, +11',
      'mov %r3, 7',
      'ja +0',
      'ja +0',
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((k) => `mov %r6, ${k}`),
      'stxw [%r10-4], %r3',
      'mov %r0, 2',
      'exit',
    ].join('\n'),
    maps: [],
  });
  const STORE = 14;

  it('the kernel\'s walk prunes a path whose scalar it did not need: its facts there are not every path\'s', () => {
    const { result, records } = buildRecords(joinCase.program, []);
    expect(result.ok).toBe(true);
    const store = records.at(STORE)!;
    expect(store.kind.k).toBe('stx');
    expect(store.reads[3]!.constant).toBe(7n);
    expect(store.visits).toBe(1);
  });

  it('with every scalar precise the walk keeps both paths: the facts hold on each', () => {
    const { result, records } = buildRecords(joinCase.program, [], { preciseScalars: true });
    expect(result.ok).toBe(true);
    expect(records.at(STORE)!.visits).toBe(2);
    const r3 = records.at(STORE)!.reads[3]!;
    expect([r3.umin, r3.umax, r3.constant]).toEqual([5n, 7n, undefined]);
    expect(r3.upper32Zero).toBe(true);
    const r2 = records.at(2)!.reads[2]!;
    expect([r2.umin, r2.umax, r2.upper32Zero]).toEqual([0n, 0xffff_ffffn, true]);
  });
});

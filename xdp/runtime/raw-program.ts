/**
 * A program from bare instructions (assembled text, `-- raw` words) rather than
 * an ELF object: slots counted, and every bpf-to-bpf call target taken as the
 * start of a function, which is what symbols would have said.
 */
import { slotIndices, type Insn } from '../isa/insn.js';
import { kindOf } from '../isa/kind.js';
import type { FuncInfo, Program } from '../object/bpf-object.js';

export function programFromInsns(name: string, insns: readonly Insn[]): Pick<Program, 'name' | 'insns' | 'slots' | 'funcs' | 'lines'> {
  const slots = slotIndices(insns);
  const targets = new Set<number>();
  insns.forEach((insn, i) => {
    const k = kindOf(insn);
    if (k.k === 'call' && k.target === 'local') targets.add(slots[i]! + insn.imm + 1);
  });
  const funcs: FuncInfo[] = [{ name, start: 0, slot: 0, section: 'raw' }];
  for (const t of [...targets].sort((a, b) => a - b)) {
    const start = slots.indexOf(t);
    if (t !== 0 && start >= 0) funcs.push({ name: `func_${t}`, start, slot: t, section: 'raw' });
  }
  return { name, insns, slots, funcs, lines: insns.map(() => undefined) };
}

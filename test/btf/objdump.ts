/**
 * Test-only: what llvm-objdump says about an object's code — the source line of
 * each instruction (from DWARF, `-d -l`) and the function symbols (`-t`) — for
 * comparison with .BTF.ext line_info and func_info.
 */

import { run } from './tools.js';

/** Section → instruction index → the last source line llvm-objdump -l printed at or before it. */
export function objdumpInsnLines(path: string): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  let current: Map<number, number> | undefined;
  let line: number | undefined;
  for (const text of run('llvm-objdump', ['-d', '-l', '--no-show-raw-insn', path]).split('\n')) {
    const sec = /^Disassembly of section (.+):$/.exec(text);
    if (sec) {
      current = new Map();
      out.set(sec[1]!, current);
      line = undefined;
      continue;
    }
    const loc = /^; (.+):(\d+)$/.exec(text);
    if (loc) {
      line = Number(loc[2]);
      continue;
    }
    const insn = /^\s+(\d+):\t/.exec(text);
    if (insn && current && line !== undefined) current.set(Number(insn[1]), line);
  }
  return out;
}

export interface FuncSymbol {
  readonly name: string;
  readonly section: string;
  readonly offset: number;
}

/** Function symbols (`F` flag) from `llvm-objdump -t`. */
export function objdumpFuncSymbols(path: string): FuncSymbol[] {
  const syms: FuncSymbol[] = [];
  for (const text of run('llvm-objdump', ['-t', path]).split('\n')) {
    const m = /^([0-9a-f]{16}) (.{7}) (\S+)\s+[0-9a-f]{16} (.+)$/.exec(text);
    if (m && m[2]!.includes('F')) syms.push({ name: m[4]!, section: m[3]!, offset: parseInt(m[1]!, 16) });
  }
  return syms;
}

/**
 * The card assembler: reads the disassembler's syntax (docs/nic-isa.md "Assembler
 * syntax") back into instructions, with labels for branch targets.
 *
 *   label:                       defines a label at the next instruction
 *   ; comment, // comment        to the end of the line
 *   mnemonic[arg, ...], option, option[arg]
 *
 * Two passes: the first numbers the instructions and collects labels, the second
 * parses each statement. Each instruction is encoded once before it is returned, so
 * everything the assembler accepts can be put in an image. Every problem is an
 * `IsaError` (kind 'asm') naming the 1-based line.
 */
import { forms } from './asm-forms.js';
import { parseStatement } from './asm-statement.js';
import { encodeInsn } from './encode.js';
import { IsaError, type Fail } from './errors.js';
import type { Insn } from './instructions.js';

export interface AsmOptions {
  /** File name for messages. */
  readonly file?: string;
}

export interface AsmResult {
  readonly insns: Insn[];
  /** Label → instruction address. */
  readonly labels: ReadonlyMap<string, number>;
}

const LABEL = /^([A-Za-z_][\w.]*)\s*:/;

function stripComment(text: string): string {
  const semi = text.indexOf(';');
  const slashes = text.indexOf('//');
  const cut = [semi, slashes].filter((i) => i >= 0);
  return (cut.length ? text.slice(0, Math.min(...cut)) : text).trim();
}

export function assembleWithLabels(source: string, opts: AsmOptions = {}): AsmResult {
  const failAt =
    (line: number): Fail =>
    (reason) => {
      throw new IsaError('asm', reason, { line, ...(opts.file !== undefined ? { file: opts.file } : {}) });
    };
  const labels = new Map<string, number>();
  const statements: { line: number; text: string }[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    let text = stripComment(raw);
    for (let m = LABEL.exec(text); m; m = LABEL.exec(text)) {
      const name = m[1] as string;
      if (labels.has(name)) failAt(line)(`label "${name}" is defined twice`);
      labels.set(name, statements.length);
      text = text.slice(m[0].length).trim();
    }
    if (text !== '') statements.push({ line, text });
  });
  const table = forms();
  const insns = statements.map(({ line, text }, index) => {
    const fail = failAt(line);
    const st = parseStatement(text, fail);
    const handler = table.get(st.mnemonic) ?? fail(`unknown mnemonic "${st.mnemonic}"`);
    const insn = handler(st, { fail, labels });
    try {
      encodeInsn(insn, index);
    } catch (e) {
      if (e instanceof IsaError) fail(e.reason);
      throw e;
    }
    return insn;
  });
  return { insns, labels };
}

export const assemble = (source: string, opts: AsmOptions = {}): Insn[] => assembleWithLabels(source, opts).insns;

/** Source text straight to image words. */
export function assembleWords(source: string, opts: AsmOptions = {}): bigint[] {
  return assemble(source, opts).map((insn, i) => encodeInsn(insn, i));
}


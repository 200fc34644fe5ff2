/**
 * What one instruction's execution sees: the state, its PC and a `fail` that raises a
 * `CoreError` about it (the instruction's text is made only then), and the LM
 * post-modifications to apply once the instruction is done (docs/nic-isa.md: "All
 * operands are read before anything is written; LM post-modifications happen after
 * the instruction").
 */
import { disasmInsn } from '../isa/disasm.js';
import type { Insn } from '../isa/instructions.js';
import { LM_INDEX_COUNT } from '../isa/tables.js';
import { CoreError, type CoreErrorKind } from './errors.js';
import type { CoreState } from './state.js';

export interface Exec {
  readonly s: CoreState;
  readonly pc: number;
  readonly insn: Insn;
  /** Per LM pointer: its byte step (±4) after the instruction, 0 for none. */
  readonly postMods: Int8Array;
  /** Whether any entry of postMods is set (so that clearing them costs nothing when none is). */
  hasPostMods: boolean;
  fail(kind: CoreErrorKind, reason: string): never;
}

/** One run's execution context, set to each instruction in turn (no allocation per step). */
export class StepContext implements Exec {
  pc = 0;
  insn!: Insn;
  readonly postMods = new Int8Array(LM_INDEX_COUNT);
  hasPostMods = false;
  /** Views of the state's LM, CTM and EMEM as they are when the context is made (compiled code reads words through them). */
  readonly lmView: DataView;
  readonly ctmView: DataView;
  readonly ememView: DataView;
  constructor(readonly s: CoreState) {
    const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.lmView = view(s.lm);
    this.ctmView = view(s.mem.ctm);
    this.ememView = view(s.mem.emem);
  }

  /** The context for the instruction at `pc`, with no post-modifications pending. */
  at(pc: number, insn: Insn): this {
    this.pc = pc;
    this.insn = insn;
    if (this.hasPostMods) {
      this.postMods.fill(0);
      this.hasPostMods = false;
    }
    return this;
  }

  fail(kind: CoreErrorKind, reason: string): never {
    throw new CoreError(kind, reason, this.pc, disasmInsn(this.insn));
  }
}

/** The text of an instruction for an error raised outside its execution. */
export const insnText = (insn: Insn | undefined): string => (insn ? disasmInsn(insn) : '');

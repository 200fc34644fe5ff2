/**
 * What a timing model sees of a run: every instruction as it completes (with whether
 * it was a branch that took effect and how many defer slots it had), every memory
 * command (and whether the thread swaps out until its signal), and every firmware
 * routine the run enters (before it runs, so that the state still holds its
 * arguments). The executor calls a meter when one is given and never reads back from
 * it: time does not change what a program computes.
 */
import type { CmdInsn, Insn } from '../isa/instructions.js';
import type { CoreState } from './state.js';

export interface Meter {
  step(pc: number, insn: Insn, taken: boolean, defer: number): void;
  command(pc: number, insn: CmdInsn): void;
  firmware(address: number, s: CoreState): void;
}

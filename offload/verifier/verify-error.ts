/**
 * A refusal by the verifier: the message the kernel's log would end with, and
 * the instruction (slot index, as the kernel counts) it blames.
 */
export class VerifyError extends Error {
  /**
   * `structure`: found by the checks before the walk (opcodes, jumps, reachability), where the
   * kernel's log names no current instruction; `walk`: found on a path.
   */
  constructor(message: string, readonly insn: number, readonly pass: 'structure' | 'walk' = 'walk') {
    super(message);
    this.name = 'VerifyError';
  }

  /**
   * Whether a speculative path (see verifier.ts) may simply end here, as the kernel ends one on an
   * EACCES/EINVAL/EPERM refusal (error_recoverable_with_nospec); the complexity limits (E2BIG) end
   * everything.
   */
  get recoverable(): boolean {
    return !/^(BPF program is too large|The sequence of \d+ jumps is too complex)/.test(this.message);
  }
}

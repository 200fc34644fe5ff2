/**
 * The control-flow checks the kernel makes before walking any path
 * (check_subprogs and check_cfg in kernel/bpf/verifier.c): every jump lands
 * inside its own function and not in the second half of an `lddw`, every
 * function ends in an exit or a jump, every instruction is reachable, and
 * every opcode is one the verifier knows. The depth-first walk also gives the
 * prune points: conditional jumps, jump targets and return points, where
 * explored states are kept.
 */
import type { Insn } from '../../xdp/isa/insn.js';
import { jumpOffset, reservedFieldIssue, type InsnKind } from '../../xdp/isa/kind.js';
import { LddwSrc } from '../../xdp/isa/opcodes.js';
import { VerifyError } from './verify-error.js';

export interface SlotProgram {
  readonly length: number;
  /** insnAt[slot]: the instruction starting at that slot (undefined for an lddw's second half). */
  readonly insnAt: readonly (Insn | undefined)[];
  readonly kindAt: readonly (InsnKind | undefined)[];
  /** First slot of every function (entry first), sorted. */
  readonly funcStarts: readonly number[];
  /** The program comes with BTF function info (what a loader passes as func_info). */
  readonly hasFuncInfo: boolean;
}

export interface CfgFacts {
  /** Where states are checked against explored ones (mark_prune_point). */
  readonly prunePoints: Uint8Array;
  /** Jump targets and return points (mark_jmp_point): counted toward the forced checkpoint. */
  readonly jmpPoints: Uint8Array;
  /** Where a state is always kept (mark_force_checkpoint): may_goto. */
  readonly forcePoints: Uint8Array;
  /** Function index of every slot. */
  readonly funcOf: Int32Array;
}

/** What the kernel says of an opcode it cannot decode, by what the opcode tried to be. */
function invalidOpcodeMessage(insn: Insn): string {
  const cls = insn.code & 0x07;
  if ((cls === 0x04 || cls === 0x07) && (insn.code & 0xf0) === 0xd0) return 'BPF_END uses reserved fields';
  if (cls === 0x03 && (insn.code & 0xe0) === 0xc0) {
    const size = insn.code & 0x18;
    if (size !== 0x00 && size !== 0x18) return 'invalid atomic operand size';
    return `BPF_ATOMIC uses invalid atomic opcode ${(insn.imm >>> 0).toString(16).padStart(2, '0')}`;
  }
  if (insn.code === 0x18) return 'unrecognized bpf_ld_imm64 insn';
  return `unknown opcode ${insn.code.toString(16).padStart(2, '0')}`;
}

function funcEnd(p: SlotProgram, f: number): number {
  return p.funcStarts[f + 1] ?? p.length;
}

export function checkCfg(p: SlotProgram): CfgFacts {
  const funcOf = new Int32Array(p.length).fill(-1);
  p.funcStarts.forEach((start, f) => {
    for (let s = start; s < funcEnd(p, f); s++) funcOf[s] = f;
  });
  // Each function's last instruction must be an exit or an unconditional jump (check_subprogs, before anything else).
  p.funcStarts.forEach((_, f) => {
    let last = funcEnd(p, f) - 1;
    if (!p.insnAt[last]) last--;
    const k = p.kindAt[last];
    if (!k || (k.k !== 'exit' && k.k !== 'ja')) throw new VerifyError('last insn is not an exit or jmp', last, 'structure');
  });
  // Opcodes and reserved fields first, in program order (the kernel checks them as it meets them).
  for (let s = 0; s < p.length; s++) {
    const insn = p.insnAt[s];
    const k = p.kindAt[s];
    if (!insn || !k) continue;
    if (k.k === 'invalid') throw new VerifyError(invalidOpcodeMessage(insn), s, 'structure');
    if (insn.dst > 10 || (insn.src > 10 && !(k.k === 'lddw' || k.k === 'call'))) {
      throw new VerifyError(`R${insn.dst > 10 ? insn.dst : insn.src} is invalid`, s, 'structure');
    }
    const reserved = reservedFieldIssue(insn, k);
    if (reserved) throw new VerifyError(reserved, s, 'structure');
    if (k.k === 'ldpkt') throw new VerifyError('BPF_LD_[ABS|IND] instructions not allowed for this program type', s, 'structure');
    // The address of a function (a callback) means nothing to the kernel without BTF for it.
    if (k.k === 'lddw' && k.pseudo === LddwSrc.FUNC && !p.hasFuncInfo) throw new VerifyError('missing btf func_info', s, 'structure');
  }
  // Jumps stay inside their function and land on instruction starts.
  for (let s = 0; s < p.length; s++) {
    const insn = p.insnAt[s];
    const k = p.kindAt[s];
    if (!insn || !k) continue;
    const off = jumpOffset(insn, k);
    if (off !== undefined) {
      const t = s + off + 1;
      const f = funcOf[s]!;
      if (t < p.funcStarts[f]! || t >= funcEnd(p, f)) throw new VerifyError(`jump out of range from insn ${s} to ${t}`, s, 'structure');
      if (!p.insnAt[t]) {
        // The kernel's walk never takes an unconditional jump's target for an instruction of its own.
        if (k.k === 'ja') throw new VerifyError(`unreachable insn ${t - 1}`, t - 1, 'structure');
        throw new VerifyError(`jump into the middle of ldimm64 insn ${t - 1}`, t - 1, 'structure');
      }
    }
    if (k.k === 'call' && k.target === 'local') {
      const t = s + insn.imm + 1;
      if (!p.funcStarts.includes(t)) throw new VerifyError(`call to invalid destination`, s, 'structure');
    }
  }
  // Reachability (the kernel's depth-first walk), prune points and jump points, where visit_insn puts them.
  const prune = new Uint8Array(p.length);
  const jmp = new Uint8Array(p.length);
  const force = new Uint8Array(p.length);
  const seen = new Uint8Array(p.length);
  const stack: number[] = [...p.funcStarts];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen[s]) continue;
    seen[s] = 1;
    const insn = p.insnAt[s]!;
    const k = p.kindAt[s]!;
    const next = s + (insn.next ? 2 : 1);
    if (k.k === 'exit') continue;
    if (k.k === 'ja') {
      const t = s + (jumpOffset(insn, k) ?? 0) + 1;
      prune[t] = 1;
      jmp[t] = 1;
      stack.push(t);
      continue;
    }
    if (k.k === 'jcond' || k.k === 'maygoto') {
      const t = s + insn.off + 1;
      prune[s] = 1;
      if (k.k === 'maygoto') force[s] = 1;
      prune[t] = 1;
      jmp[t] = 1;
      stack.push(t, next);
      continue;
    }
    if (k.k === 'call') {
      prune[next] = 1;
      jmp[next] = 1;
      if (k.target === 'local') {
        // The callee's entry is the call's BRANCH edge: a prune point and a jump point (push_insn).
        const t = s + insn.imm + 1;
        prune[s] = 1;
        if (t >= 0 && t < p.length) {
          prune[t] = 1;
          jmp[t] = 1;
        }
      }
    }
    if (next < p.length) stack.push(next);
  }
  for (let s = 0; s < p.length; s++) {
    if (p.insnAt[s] && !seen[s]) throw new VerifyError(`unreachable insn ${s}`, s, 'structure');
  }
  return { prunePoints: prune, jmpPoints: jmp, forcePoints: force, funcOf };
}

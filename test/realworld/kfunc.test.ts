/**
 * Kernel functions (issue 9, point 3): calls to extern `__ksym` kfuncs are checked as the kernel's
 * check_kfunc_call does — against the running kernel's BTF prototype and the kfunc's flags (acquire,
 * release, NULL) — so a conntrack lookup that releases its reference is accepted with the kernel's
 * instruction count, and the same program with the release removed, the NULL check removed, or a
 * tuple size past the stack is refused at the instruction the kernel blames.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyProgram } from '../../offload/verifier/verifier.js';
import { kernelFunctions, runningKernelFunctions } from '../../offload/verifier/kfunc-protos.js';
import { caseObject } from '../verifier/case-loader.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { kernelVerdict } from '../../xdp/kernel/load-program.js';
import type { Insn } from '../../xdp/isa/insn.js';
import { CallSrc } from '../../xdp/isa/opcodes.js';
import type { BpfObject, Program } from '../../xdp/object/bpf-object.js';
import { loadObjectFile, selectProgram } from '../../xdp/object/load-object.js';
import { FIXTURE_OBJ } from '../support/paths.js';
import type { Btf } from '../../xdp/btf/btf-types.js';

const kernel = kernelAvailable();
const vmlinux = existsSync('/sys/kernel/btf/vmlinux');
const uname = (): string => execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
const obj = loadObjectFile(join(FIXTURE_OBJ, 'rw_kfunc_ct.o'));
const prog = selectProgram(obj, 'xdp_ct_filter');

const isKfuncCall = (i: Insn, name: string): boolean =>
  i.code === 0x85 && i.src === CallSrc.KFUNC && prog.kfuncs?.[i.imm]?.name === name;
const JA0: Insn = { code: 0x05, dst: 0, src: 0, off: 0, imm: 0 };

/** The program with instruction `at` (an index) replaced. */
function edited(at: number, insn: Insn): Program {
  const insns = prog.insns.slice();
  insns[at] = insn;
  return { ...prog, insns };
}
const releaseAt = prog.insns.findIndex((i) => isKfuncCall(i, 'bpf_ct_release'));
const lookupAt = prog.insns.findIndex((i) => isKfuncCall(i, 'bpf_xdp_ct_lookup'));
const markObj = loadObjectFile(join(FIXTURE_OBJ, 'rw_kfunc_ct_mark.o'));
const markProg = selectProgram(markObj, 'xdp_ct_mark');
/** rw_kfunc_ct_mark with the offset of its first load from r0 (a field read) or its store through r0 changed. */
function markEdited(what: 'load' | 'store', off: number): Program {
  const code = what === 'load' ? 0x61 : 0x63;
  const at = markProg.insns.findIndex((i) => i.code === code && (what === 'load' ? i.src : i.dst) === 0);
  const insns = markProg.insns.slice();
  insns[at] = { ...insns[at]!, off };
  return { ...markProg, insns };
}
const markVariants: Record<string, Program> = {
  'nf_conn fields read and mark written': markProg,
  'a store to another nf_conn field': markEdited('store', 8),
  'a load past the end of struct nf_conn': markEdited('load', 4000),
  'a load at a negative offset': markEdited('load', -8),
};

const variants: Record<string, Program> = {
  'as compiled': prog,
  'without the release': edited(releaseAt, JA0),
  'without the NULL check': edited(releaseAt - 1, JA0),
  'with a tuple size past the stack': edited(lookupAt - 2, { code: 0xb7, dst: 3, src: 0, off: 0, imm: 100 }),
};

describe('kfunc calls', () => {
  it('the fixture calls bpf_xdp_ct_lookup then bpf_ct_release', () => {
    expect(prog.kfuncs?.map((k) => k.name)).toEqual(['bpf_xdp_ct_lookup', 'bpf_ct_release']);
    expect(releaseAt).toBeGreaterThan(lookupAt);
  });

  it('without the kernel\'s BTF, a kfunc call is refused as the kernel refuses it', () => {
    const r = verifyProgram(prog, obj.maps, { kernelFunctions: null });
    expect(r.error?.message).toBe('calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF');
  });

  it('a kernel that lacks the function: libbpf\'s refusal; one not offered to XDP: the kernel\'s', () => {
    const empty = kernelFunctions({ types: [{ kind: 'VOID', id: 0, name: '', nameOff: 0, offset: -1 }] } as unknown as Btf, 'none');
    expect(verifyProgram(prog, obj.maps, { kernelFunctions: empty }).error?.message).toBe("extern (func ksym) 'bpf_xdp_ct_lookup': not found in kernel or module BTFs");
  });

  describe.skipIf(!kernel.ok || !vmlinux)(`against the running kernel (${kernel.ok ? (vmlinux ? 'bpf() and vmlinux BTF' : 'no /sys/kernel/btf/vmlinux') : kernel.reason})`, () => {
    for (const [label, p, base] of [
      ...Object.entries(variants).map(([l, v]) => [l, v, obj] as const),
      ...Object.entries(markVariants).map(([l, v]) => [l, v, markObj] as const),
    ]) {
      it(label, () => {
        const o: BpfObject = { ...base, programs: [p] };
        const theirs = kernelVerdict(o, p, { logLevel: 1 });
        const ours = verifyProgram(p, o.maps);
        const side = `kernel ${uname()}: ${theirs.accepted ? 'accepted' : `refused at insn ${theirs.rejection?.insn}: ${theirs.rejection?.message}`}; ours: ${ours.ok ? 'accepted' : `refused at insn ${ours.error?.insn}: ${ours.error?.message}`}`;
        expect(ours.ok, side).toBe(theirs.accepted);
        if (theirs.accepted) {
          expect(ours.log.trim(), side).toBe(/processed \d+ insns .*/.exec(theirs.log)?.[0]?.trim());
        } else {
          expect(ours.error!.insn, side).toBe(theirs.rejection!.insn);
          expect(theirs.rejection!.message, side).toContain(ours.error!.message.split('\n')[0]!);
        }
      });
    }

    // Bare instructions name a kfunc by its BTF id in the running kernel, as the kernel reads the call.
    const vmlinuxFuncs = runningKernelFunctions()!;
    const idOf = (name: string): number => vmlinuxFuncs.proto(name)!.btfId;
    const bare = (imm: number, setup: string[]) => caseObject({
      name: `bare_kfunc_${imm}`,
      asm: [...setup, `raw 0x85 0 2 0 ${imm}`, 'mov %r0, 2', 'exit'].join('\n'),
      maps: [],
    });
    const bareCases: Record<string, () => ReturnType<typeof bare>> = {
      'bare kfunc by BTF id: bpf_ct_release of a scalar': () => bare(idOf('bpf_ct_release'), ['mov %r1, 0']),
      'bare kfunc by BTF id: bpf_xdp_ct_lookup with the context but no tuple': () => bare(idOf('bpf_xdp_ct_lookup'), ['mov %r2, 0', 'mov %r3, 0', 'mov %r4, 0', 'mov %r5, 0']),
      'bare kfunc by BTF id: an id that is a struct': () => bare(idOf('bpf_xdp_ct_lookup') - 1, []),
    };
    for (const [label, make] of Object.entries(bareCases)) {
      it(label, () => {
        const { object, program } = make();
        const theirs = kernelVerdict(object, program, { logLevel: 1 });
        const ours = verifyProgram(program, object.maps);
        const side = `kernel ${uname()}: ${theirs.accepted ? 'accepted' : `refused at insn ${theirs.rejection?.insn}: ${theirs.rejection?.message}`}; ours: ${ours.ok ? 'accepted' : `refused at insn ${ours.error?.insn}: ${ours.error?.message}`}`;
        expect(ours.ok, side).toBe(false);
        expect(theirs.accepted, side).toBe(false);
        expect(theirs.rejection!.message, side).toContain(ours.error!.message.split('\n')[0]!);
      });
    }
  });
});

/**
 * Kernel functions (kfuncs) resolved in the running kernel, as libbpf does
 * before BPF_PROG_LOAD: each extern `__ksym` function a program calls is
 * looked up by name among the FUNCs of the kernel's BTF
 * (/sys/kernel/btf/vmlinux, read with our own BTF parser), and the call
 * instruction's imm becomes that BTF id, off 0 meaning vmlinux
 * (bpf_object__resolve_ksym_func_btf_id, then bpf_object__relocate_data's
 * RELO_EXTERN_CALL). A function the kernel lacks refuses the object with
 * libbpf's own message, unless the extern is weak: then imm and off stay 0,
 * which the verifier accepts only where the call is dead code
 * (`if (bpf_ksym_exists(f))`).
 *
 * Kernel modules' kfuncs live in split BTF (/sys/kernel/btf/<module>) and
 * are passed through fd_array with off = its index; this loader reads
 * vmlinux only and says so when a name is missing and module BTF exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { UnsupportedError, XdpError } from '../errors.js';
import { parseBtf } from '../btf/btf-parse.js';
import type { Insn } from '../isa/insn.js';
import { CallSrc, JmpOp } from '../isa/opcodes.js';
import type { Program } from '../object/bpf-object.js';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

/** FUNC names of the kernel's BTF → their type ids, read once per load. */
export interface KernelFuncs {
  readonly source: string;
  idOf(name: string): number | undefined;
  /** Module BTF files beside vmlinux (their kfuncs are not resolved here). */
  readonly modules: readonly string[];
}

export function readKernelFuncs(path: string = VMLINUX_BTF): KernelFuncs {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new XdpError(`cannot read the kernel's BTF: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: path });
  }
  const btf = parseBtf(bytes, { file: path });
  const ids = new Map<string, number>();
  for (const t of btf.types) {
    if (t.kind === 'FUNC' && !ids.has(t.name)) ids.set(t.name, t.id);
  }
  let modules: string[] = [];
  try {
    const dir = path.slice(0, path.lastIndexOf('/'));
    modules = readdirSync(dir).filter((f) => f !== 'vmlinux');
  } catch {
    // no directory listing: no modules to mention
  }
  return { source: path, idOf: (name) => ids.get(name), modules };
}

/** BTF id of each of the program's kfuncs (0 for a weak one the kernel lacks), or libbpf's refusal. */
export function resolveKfuncs(program: Pick<Program, 'name' | 'section' | 'kfuncs'>, funcs: KernelFuncs, file?: string): number[] {
  return (program.kfuncs ?? []).map((k) => {
    const id = funcs.idOf(k.name);
    if (id !== undefined) return id;
    if (k.weak) return 0;
    const modules = funcs.modules.length > 0
      ? ` (module BTFs ${funcs.modules.join(', ')} are not searched by this loader)`
      : '';
    throw new UnsupportedError(
      `extern (func ksym) '${k.name}': not found in kernel or module BTFs${modules}; program '${program.name}' calls it`,
      { ...(file !== undefined ? { file } : {}), section: program.section },
    );
  });
}

const OPCODE_CALL = 0x05 | JmpOp.CALL;

/** The program's instructions with each kfunc call's imm set to the kernel's BTF id (off 0: vmlinux). */
export function withKfuncIds(insns: readonly Insn[], ids: readonly number[]): Insn[] {
  return insns.map((insn) => {
    if (insn.code !== OPCODE_CALL || insn.src !== CallSrc.KFUNC) return insn;
    const id = ids[insn.imm];
    if (id === undefined) throw new XdpError(`kfunc call names kfunc #${insn.imm}, which the program's list does not have`);
    return { ...insn, imm: id, off: 0 };
  });
}

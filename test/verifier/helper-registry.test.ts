/**
 * Every helper id against the running kernel's xdp_func_proto: a program that
 * calls helper N with r1-r5 zero is loaded into the kernel and given to our
 * verifier. Where the kernel says the program type cannot use the helper, we
 * must say the same words; where it accepts the program or refuses it for its
 * arguments, the helper is allowed, and we either model it (then our verdict,
 * blamed instruction and message are the kernel's) or say plainly that we do
 * not — never that the kernel would refuse it.
 *
 * Without the kernel (or root) the kernel side is skipped with the reason
 * printed; the registry's own consistency is checked everywhere.
 */
import { describe, expect, it } from 'vitest';
import { release } from 'node:os';
import { verifyProgram } from '../../offload/verifier/verifier.js';
import { helperIds, helperName, helperSpec } from '../../xdp/helpers/helper-registry.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { kernelVerdict } from '../../xdp/kernel/load-program.js';
import { PROVIDED_HELPERS } from '../../xdp/runtime/helpers/xdp-helpers.js';
import { caseObject } from './case-loader.js';

const probe = (id: number) =>
  caseObject({
    name: `helper_${id}`,
    asm: ['mov %r1, 0', 'mov %r2, 0', 'mov %r3, 0', 'mov %r4, 0', 'mov %r5, 0', `call ${id}`, 'mov %r0, 2', 'exit'].join('\n'),
    maps: [],
  });

const NOT_FOR_XDP = /program of this type cannot use helper|invalid func unknown#/;
const NOT_MODELLED = /the kernel allows it in XDP programs, but this verifier does not model it/;
const ids = helperIds();
const xdp = (id: number) => helperSpec(id)!.xdp;
const modelled = (id: number) => helperSpec(id)!.proto !== undefined;

describe('the helper registry', () => {
  it('models only helpers the kernel allows XDP programs, and runs only modelled ones', () => {
    for (const id of ids.filter(modelled)) expect(xdp(id), helperName(id)).toBe(true);
    for (const id of PROVIDED_HELPERS) expect(modelled(id), `engine helper ${helperName(id)}`).toBe(true);
  });

  it('refuses every other helper by name, saying whether the kernel allows it', () => {
    for (const id of ids) {
      if (modelled(id)) continue;
      const { object, program } = probe(id);
      const r = verifyProgram(program, object.maps);
      expect(r.ok, helperName(id)).toBe(false);
      expect(r.error!.message, helperName(id)).toMatch(xdp(id) ? NOT_MODELLED : NOT_FOR_XDP);
    }
  });
});

const kernel = kernelAvailable();
const why = !kernel.ok ? kernel.reason : !kernel.privileged ? 'this process lacks CAP_SYS_ADMIN/CAP_PERFMON (the list is the privileged one)' : undefined;
if (why) console.log(`SKIP helper registry against the kernel: ${why}`);

describe.skipIf(why !== undefined)('the helper registry against the running kernel', () => {
  it(`every helper id 1..${ids.length}: allowed or not as the kernel says, modelled ones refused or accepted as it does`, () => {
    const problems: string[] = [];
    const counts = { notForXdp: 0, modelled: 0, notModelled: 0 };
    for (const id of ids) {
      const { object, program } = probe(id);
      const k = kernelVerdict(object, program, { logLevel: 1 });
      const ours = verifyProgram(program, object.maps);
      const name = `${helperName(id)}#${id}`;
      const kernelSays = k.accepted ? 'accepted' : `refused at insn ${k.rejection?.insn}: ${k.rejection?.message}`;
      const oursSays = ours.ok ? 'accepted' : `refused at insn ${ours.error!.insn}: ${ours.error!.message}`;
      const kernelRefusesType = !k.accepted && NOT_FOR_XDP.test(k.log);
      if (kernelRefusesType) {
        counts.notForXdp++;
        if (xdp(id)) problems.push(`${name}: the kernel does not allow it, our list does`);
        if (ours.ok || !k.rejection?.message.includes(ours.error!.message)) problems.push(`${name}: kernel ${kernelSays}; ours ${oursSays}`);
        continue;
      }
      if (!xdp(id)) problems.push(`${name}: the kernel allows it, our list does not (kernel ${kernelSays})`);
      if (!modelled(id)) {
        counts.notModelled++;
        if (!NOT_MODELLED.test(oursSays)) problems.push(`${name}: not modelled, but ours ${oursSays}`);
        continue;
      }
      counts.modelled++;
      const same = k.accepted
        ? ours.ok && ours.stats.processed === k.verifiedInsns
        : !ours.ok && ours.error!.insn === k.rejection?.insn && k.rejection!.message.includes(ours.error!.message);
      if (!same) problems.push(`${name}: kernel ${kernelSays}${k.accepted ? ` (${k.verifiedInsns} processed)` : ''}; ours ${oursSays}${ours.ok ? ` (${ours.stats.processed} processed)` : ''}`);
    }
    console.log(`helper registry vs kernel ${release()}: ${counts.notForXdp} not for XDP, ${counts.modelled} allowed and modelled, ${counts.notModelled} allowed and not modelled`);
    expect(problems, `kernel ${release()}`).toEqual([]);
  });
});

/**
 * Frozen read-only data is constant (issue 9, point 5): a load from `.rodata`, which libbpf writes
 * and then freezes, at a constant offset gives the verifier the value stored there
 * (check_mem_access → bpf_map_direct_read), so configuration branches are decided and dead stages
 * are never walked. The same object with its configuration in a writable map is refused, by the
 * kernel and by us, at the same instruction.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyProgram } from '../../offload/verifier/verifier.js';
import { kernelAvailable } from '../../xdp/kernel/kernel-oracle.js';
import { kernelVerdict } from '../../xdp/kernel/load-program.js';
import type { BpfObject, MapDef } from '../../xdp/object/bpf-object.js';
import { frozenValue } from '../../xdp/object/global-data.js';
import { loadObjectFile, selectProgram } from '../../xdp/object/load-object.js';
import { FIXTURE_OBJ } from '../support/paths.js';

const kernel = kernelAvailable();
const uname = (): string => execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
const obj = loadObjectFile(join(FIXTURE_OBJ, 'rw_rodata_config.o'));
const prog = selectProgram(obj, 'xdp_configured');

/** The object as a loader that does not freeze would give it: `.rodata` as a writable global. */
function unfrozen(o: BpfObject): BpfObject {
  const maps: MapDef[] = o.maps.map((m) => (m.section.startsWith('.rodata') ? { ...m, section: '.data.cfg', flags: 0 } : m));
  return { ...o, maps };
}

describe('frozen .rodata is constant to the verifier', () => {
  it('reads the configuration from the frozen map only', () => {
    const rodata = obj.maps.find((m) => m.section === '.rodata')!;
    expect(frozenValue(rodata)).toBeDefined();
    for (const m of obj.maps.filter((x) => x !== rodata)) expect(frozenValue(m), m.name).toBeUndefined();
  });

  it('accepts the configured program, walking only the enabled stages', () => {
    const r = verifyProgram(prog, obj.maps);
    expect(r.error?.message ?? '').toBe('');
    expect(r.ok).toBe(true);
    const processed = Number(/processed (\d+) insns/.exec(r.log)![1]);
    // Without the constants the three disabled stages and their loops are walked (2,827 when this was written).
    expect(processed).toBeLessThan(400);
  });

  it('refuses the same program when the configuration is writable (counters[slot] is unbounded)', () => {
    const r = verifyProgram(prog, unfrozen(obj).maps);
    expect(r.ok).toBe(false);
    expect(r.error!.message).toMatch(/unbounded memory access|invalid access to map value/);
  });

  it.skipIf(!kernel.ok)(`agrees with the running kernel, frozen and not (${kernel.ok ? 'bpf() available' : kernel.reason})`, () => {
    for (const [label, o] of [['frozen', obj], ['writable', unfrozen(obj)]] as const) {
      const theirs = kernelVerdict(o, prog, { logLevel: 1 });
      const ours = verifyProgram(prog, o.maps);
      const side = `kernel ${uname()} (${label}): ${theirs.accepted ? 'accepted' : `refused at insn ${theirs.rejection?.insn}: ${theirs.rejection?.message}`}; ours: ${ours.ok ? 'accepted' : `refused at insn ${ours.error?.insn}: ${ours.error?.message}`}`;
      expect(ours.ok, side).toBe(theirs.accepted);
      if (!theirs.accepted) {
        expect(ours.error!.insn, side).toBe(theirs.rejection!.insn);
        expect(theirs.rejection!.message, side).toContain(ours.error!.message.split('\n')[0]!);
      } else {
        expect(ours.log.trim(), side).toBe(/processed \d+ insns .*/.exec(theirs.log)?.[0]?.trim() ?? ours.log.trim());
      }
    }
  });
});

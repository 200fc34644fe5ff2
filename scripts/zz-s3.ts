import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolveProfile } from '../caps/load-profile.js';
import { translateProgram } from '../offload/jit/jit-program.js';
import { decideOffload } from '../offload/rules/decide.js';
import { findPrograms, loadObjectFile } from '../xdp/object/load-object.js';
import { disasmInsn } from '../nic-sim/isa/index.js';
import { formatInsn } from '../xdp/isa/disasm.js';
const { profile } = resolveProfile('nfp-4000');
const OBJ = 'fixtures/obj';
const only = process.argv[2];
for (const file of readdirSync(OBJ).filter((f) => f.endsWith('.o')).sort()) {
  if (only && !file.startsWith(only)) continue;
  const obj = loadObjectFile(join(OBJ, file));
  for (const program of findPrograms(obj)) {
    if (decideOffload(obj, program, profile, { privileged: true }).verdict !== 'offload') continue;
    const { records, card } = translateProgram(obj, program, profile);
    for (const r of records.records) {
      const code = card.insns.flatMap((i, pc) => (card.sourceMap[pc] === r.index ? [disasmInsn(i)] : []));
      console.log(`${file}:${r.index}: ${formatInsn(r.insn).padEnd(36)} ${[...(r.reads?.[r.insn.src]?.types ?? [])].join('/')}:${r.reads?.[r.insn.src]?.offMin ?? ''} | ${code.join(' ; ')}`);
    }
  }
}

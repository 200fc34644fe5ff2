import { loadObjectFile } from '../xdp/object/load-object.js';
import { loadProgramIntoKernel } from '../xdp/kernel/load-program.js';
import { KernelError } from '../xdp/kernel/kernel-error.js';
import { verifyProgram } from '../offload/verifier/verifier.js';
const [file, name, lvl] = process.argv.slice(2);
const obj = loadObjectFile(file!);
const p = obj.programs.find((x) => x.name === name)!;
try {
  const l = loadProgramIntoKernel(obj, p, { logLevel: Number(lvl ?? 1), logSize: Number(process.argv[5] ?? 1 << 24) });
  console.log(l.log); l.close();
} catch (e) { if (e instanceof KernelError) console.log(e.log.slice(0, 20000)); else throw e; }
console.log('=== ours');
console.log(verifyProgram(p, obj.maps, { logLevel: Number(lvl ?? 1) as 1 }).log.slice(0, 20000));

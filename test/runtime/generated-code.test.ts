import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadObjectFile } from '../../xdp/object/load-object.js';
import { generatedSource } from '../../xdp/runtime/compiler.js';
import { prepareProgram } from '../../xdp/runtime/exec-program.js';
import { fixtureObjects } from '../support/paths.js';

/** Every identifier the generator writes: registers, its locals, and the objects it is handed. */
const ALLOWED = new Set([
  'return', 'function', 'let', 'const', 'for', 'switch', 'case', 'default', 'if', 'else', 'continue', 'throw', 'undefined', 'true', 'false',
  'vm', 'depth', 'R', 'O', 'RG', 'HF', 'T', 'o', 'g', 'X', 'CTXOK', 'PK', 'PKID', 'PKV', 'SV', 'BU', 'pc', 'M', 'A', 'F', 'B', 'FN', 'Math', 'imul',
  // fields and methods of the engine's own objects
  'regs', 'scratch', 'memory', 'regions', 'helpers', 'xdp', 'ctx', 'id', 'stack', 'view', 'budget', 'tailCall', 'packet', 'data', 'lo', 'hi',
  'ingressIfindex', 'rxQueueIndex', 'egressIfindex', 'kind', 'writable', 'noPacket', 'readMem', 'writeMem', 'atomic', 'call', 'noHelper', 'kfunc',
  'getUint8', 'getInt8', 'getUint16', 'getInt16', 'getInt32', 'getUint32', 'setUint8', 'setUint16', 'setInt32',
  'mul64', 'udiv64', 'sdiv64', 'umod64', 'smod64', 'udiv32', 'sdiv32', 'umod32', 'smod32', 'lsh64', 'rsh64', 'arsh64', 'bswap', 'truncate',
]);
const GENERATED_NAME = /^(?:[LH]\d+|f\d+)$/;

describe('generated JavaScript holds only numbers and names the generator made', () => {
  it.each(fixtureObjects().map((p) => [basename(p), p]))('%s', (_n, path) => {
    const obj = loadObjectFile(path);
    const names = [
      ...obj.programs.flatMap((p) => [p.name, p.section, ...p.funcs.map((f) => f.name)]),
      ...obj.maps.map((m) => m.name),
      ...obj.elf.symbols.map((s) => s.name),
    ].filter((n) => n.length >= 4 && !ALLOWED.has(n) && !n.startsWith('.')); // '.data' & co. are section names; X.data is ours
    for (const program of obj.programs) {
      const text = generatedSource(prepareProgram(program, { handle: (i) => 1000 + i, value: () => ({ region: 2000, offset: 0 }) }));
      // String literals are the generator's own messages; strip them, then every identifier must be known.
      const code = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      const identifiers = new Set(code.match(/[A-Za-z_$][A-Za-z0-9_$]*/g));
      const foreign = [...identifiers].filter((id) => !ALLOWED.has(id) && !GENERATED_NAME.test(id));
      expect(foreign).toEqual([]);
      for (const name of names) expect(text.includes(name), `'${name}' from the object appears in the generated code`).toBe(false);
      const literals = text.match(/"(?:[^"\\]|\\.)*"/g) ?? [];
      for (const lit of literals) expect(lit).toMatch(/^"(add|jump or fall-through to slot |, outside the program|jump from one function into another|jump into the middle of an lddw|register r\d+ does not exist|call depth exceeds \d+ frames|invalid instruction: [a-zA-Z0-9 ()_/]+|legacy packet loads \(LD_ABS\/LD_IND\) are not allowed in XDP programs|kfunc call \(BTF id -?\d+\) cannot run on the host|callx is not supported|call target is not the start of a function)"$/);
    }
  });
});

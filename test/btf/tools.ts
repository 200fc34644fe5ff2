/**
 * Test-only: external tools (clang, bpftool, llvm-objdump) and compiling the
 * test programs into a temporary directory.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseElf } from '../../xdp/elf/elf.js';
import { hasCommand } from '../support/paths.js';
import type { TestProgram } from './programs.js';


export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export interface CompiledProgram {
  readonly name: string;
  readonly sourcePath: string;
  readonly objectPath: string;
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  readonly sections: Map<string, Uint8Array>;
}

let tempDir: string | undefined;

function scratch(): string {
  tempDir ??= mkdtempSync(join(tmpdir(), 'btf-test-'));
  return tempDir;
}

/** Remove this test file's scratch directory (call from afterAll). */
export function cleanupScratch(): void {
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

/** Compile with `clang -O2 -g -target bpf{el,eb}` into a temp dir. */
export function compile(prog: TestProgram, target: 'bpfel' | 'bpfeb' = 'bpfel'): CompiledProgram {
  const dir = scratch();
  const sourcePath = join(dir, `${prog.name}.c`);
  const objectPath = join(dir, `${prog.name}.${target}.o`);
  writeFileSync(sourcePath, prog.source);
  run('clang', ['-O2', '-g', '-target', target, '-c', sourcePath, '-o', objectPath]);
  return loadObject(objectPath, prog.name, sourcePath);
}

export function loadObject(objectPath: string, name = objectPath, sourcePath = ''): CompiledProgram {
  const bytes = new Uint8Array(readFileSync(objectPath));
  const elf = parseElf(bytes, objectPath);
  const { littleEndian } = elf;
  const sections = new Map(elf.sections.map((x) => [x.name, x.data]));
  return { name, sourcePath, objectPath, bytes, littleEndian, sections };
}

/** `bpftool btf dump file X format raw`. */
export function bpftoolRaw(path: string): string {
  return run('bpftool', ['btf', 'dump', 'file', path, 'format', 'raw']);
}

/** Write bytes to a file in the scratch dir and return its path. */
export function scratchFile(name: string, bytes: Uint8Array): string {
  const p = join(scratch(), name);
  writeFileSync(p, bytes);
  return p;
}

export const TOOLS = {
  clang: hasCommand('clang'),
  bpftool: hasCommand('bpftool', ['version']),
  objdump: hasCommand('llvm-objdump'),
};

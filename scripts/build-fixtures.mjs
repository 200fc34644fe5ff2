#!/usr/bin/env node
// Rebuilds every fixtures/src/*.c into fixtures/obj/<name>.o with clang.
//
//   node scripts/build-fixtures.mjs [--require] [--out-dir DIR] [name ...]
//
// Flags per object: `clang -O2 -g -target bpf -c`, then whatever the source
// asks for in a `// cflags: ...` comment within its first lines (for example
// `// cflags: -mcpu=v3`). Two more flags make the objects independent of the
// machine and of where the repository is checked out, without changing code:
//   -I/usr/include/<multiarch>   only when /usr/include/asm is missing (Debian
//                                keeps <asm/types.h> there; linux/bpf.h needs it)
//   -fdebug-prefix-map=<repo>=.  DWARF/BTF then name the repository ".", and
//                                clang runs in the repository root on relative
//                                paths (fixtures/src/x.c), so no absolute path
//                                of the checkout ends up inside an object.
// Building twice gives byte-identical objects.
//
// Without clang or the libbpf headers the committed objects are left alone:
// the script says what to install and exits 0, or 1 with --require.
// fixtures/obj/toolchain.txt records the clang, libbpf-header and kernel-header
// versions the objects were built with; test/fixtures/fixtures-build.test.ts
// compares bytes only when the local toolchain matches it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC_DIR = 'fixtures/src';
const OBJ_DIR = 'fixtures/obj';
const BPF_HELPERS = '/usr/include/bpf/bpf_helpers.h';
const BASE_FLAGS = ['-O2', '-g', '-target', 'bpf', '-c'];
const CFLAGS_SCAN_LINES = 10;
const INSTALL_HINT = 'install them with: apt-get install clang libbpf-dev (Debian/Ubuntu)';

function parseArgs(argv) {
  const opts = { require: false, outDir: OBJ_DIR, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--require') opts.require = true;
    else if (arg === '--out-dir') {
      const dir = argv[++i];
      if (dir === undefined) fail('--out-dir needs a directory');
      opts.outDir = dir;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: node scripts/build-fixtures.mjs [--require] [--out-dir DIR] [name ...]\n');
      process.exit(0);
    } else if (arg.startsWith('-')) fail(`unknown option ${arg}`);
    else opts.names.push(arg.replace(/\.(c|o)$/, ''));
  }
  return opts;
}

function fail(message) {
  process.stderr.write(`build-fixtures: ${message}\n`);
  process.exit(1);
}

function run(cmd, args, cwd = ROOT) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8' });
}

/** First line of `clang --version`, or undefined when clang cannot run. */
function clangVersion() {
  const r = run('clang', ['--version']);
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n')[0].trim();
}

function headerDefine(file, name) {
  if (!existsSync(file)) return undefined;
  const m = new RegExp(`#define\\s+${name}\\s+(\\S+)`).exec(readFileSync(file, 'utf8'));
  return m ? m[1] : undefined;
}

function libbpfHeadersVersion() {
  const file = '/usr/include/bpf/libbpf_version.h';
  const major = headerDefine(file, 'LIBBPF_MAJOR_VERSION');
  const minor = headerDefine(file, 'LIBBPF_MINOR_VERSION');
  return major !== undefined && minor !== undefined ? `${major}.${minor}` : 'unknown';
}

function kernelHeadersVersion() {
  const code = headerDefine('/usr/include/linux/version.h', 'LINUX_VERSION_CODE');
  if (code === undefined) return 'unknown';
  const n = Number(code);
  return `${n >> 16}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** The include flag Debian's split of <asm/*.h> needs, if any. */
function multiarchInclude() {
  if (existsSync('/usr/include/asm/types.h')) return [];
  const r = run('clang', ['-print-multiarch']);
  const triple = r.status === 0 ? r.stdout.trim() : '';
  const candidates = triple ? [triple] : [];
  for (const entry of readdirSync('/usr/include')) if (/-linux-gnu/.test(entry)) candidates.push(entry);
  for (const dir of candidates) {
    if (existsSync(`/usr/include/${dir}/asm/types.h`)) return [`-I/usr/include/${dir}`];
  }
  return [];
}

/** Extra flags from a `// cflags: ...` comment near the top of the source. */
function sourceCflags(text) {
  const head = text.split('\n').slice(0, CFLAGS_SCAN_LINES);
  for (const line of head) {
    const m = /^\s*(?:\/\/|\/\*|\*)\s*cflags:\s*(.*?)\s*(?:\*\/)?\s*$/.exec(line);
    if (m) return m[1].split(/\s+/).filter((f) => f.length > 0);
  }
  return [];
}

function toolchainText(clang) {
  return [
    `clang: ${clang}`,
    `libbpf headers: ${libbpfHeadersVersion()}`,
    `linux headers: ${kernelHeadersVersion()}`,
    '',
  ].join('\n');
}

function main() {
  const opts = parseArgs(process.argv.slice(2));

  const missing = [];
  const clang = clangVersion();
  if (clang === undefined) missing.push('clang');
  if (!existsSync(BPF_HELPERS)) missing.push(`libbpf headers (${BPF_HELPERS})`);
  if (missing.length > 0) {
    const message = `cannot build fixtures: ${missing.join(' and ')} not found; ${INSTALL_HINT}.`;
    if (opts.require) fail(message);
    process.stdout.write(`build-fixtures: ${message}\nbuild-fixtures: keeping the committed objects in ${OBJ_DIR}/.\n`);
    return;
  }

  const all = readdirSync(join(ROOT, SRC_DIR))
    .filter((f) => f.endsWith('.c'))
    .map((f) => f.slice(0, -2))
    .sort();
  for (const name of opts.names) if (!all.includes(name)) fail(`no fixture source ${SRC_DIR}/${name}.c`);
  const names = opts.names.length > 0 ? opts.names : all;

  const outDir = isAbsolute(opts.outDir) ? opts.outDir : join(ROOT, opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const common = [...BASE_FLAGS, ...multiarchInclude(), `-fdebug-prefix-map=${ROOT}=.`];

  for (const name of names) {
    const src = `${SRC_DIR}/${name}.c`;
    const extra = sourceCflags(readFileSync(join(ROOT, src), 'utf8'));
    const outAbs = join(outDir, `${name}.o`);
    const out = relative(ROOT, outAbs).startsWith('..') ? outAbs : relative(ROOT, outAbs);
    const r = run('clang', [...common, ...extra, src, '-o', out]);
    if (r.status !== 0) {
      process.stderr.write(r.stderr ?? '');
      fail(`clang failed on ${src}${r.error ? `: ${r.error.message}` : ''}`);
    }
    if (r.stderr) process.stderr.write(r.stderr);
    const size = statSync(outAbs).size;
    const shown = relative(ROOT, outAbs).startsWith('..') ? outAbs : relative(ROOT, outAbs);
    const flags = extra.length > 0 ? ` [${extra.join(' ')}]` : '';
    process.stdout.write(`built ${shown} (${size} bytes)${flags}\n`);
  }

  writeFileSync(join(outDir, 'toolchain.txt'), toolchainText(clang));
}

main();

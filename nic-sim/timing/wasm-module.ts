/**
 * The project's WebAssembly modules (dist/wasm/*.wasm, built from AssemblyScript by
 * `npm run build`), each compiled once per process and instantiated by whoever uses it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { XdpError } from '../../xdp/errors.js';

/** The project's root: the nearest folder above this module holding package.json (this runs from the sources and from dist/). */
function projectRoot(): string {
  for (let d = import.meta.dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) throw new XdpError(`no package.json above ${import.meta.dirname} (where dist/wasm is)`);
  }
}

const compiled = new Map<string, WebAssembly.Module>();

/** dist/wasm/`name`, compiled (once). */
export function wasmModule(name: string): WebAssembly.Module {
  let m = compiled.get(name);
  if (m === undefined) {
    const file = join(projectRoot(), 'dist', 'wasm', name);
    if (!existsSync(file)) throw new XdpError(`${file} is not built: run npm run build`);
    compiled.set(name, (m = new WebAssembly.Module(readFileSync(file))));
  }
  return m;
}

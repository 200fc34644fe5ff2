/**
 * `offload --version`: the package's name and version (from the package.json
 * above this module, in the sources or in dist/), with the Node.js and kernel
 * releases a bug report needs, as `bpftool -V` names its libbpf.
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package.json of this project: the first one above this module that names the `offload` command. */
function packageJson(): { name: string; version: string } | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string; bin?: Record<string, string> };
      if (doc.bin?.offload !== undefined && doc.name !== undefined && doc.version !== undefined) return { name: doc.name, version: doc.version };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export function versionText(): string {
  const pkg = packageJson();
  return [
    `offload ${pkg ? `${pkg.version} (${pkg.name})` : '(version unknown: no package.json above the program)'}`,
    `node ${process.version}`,
    `kernel ${release()}`,
  ].join('\n');
}

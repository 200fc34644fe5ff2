/**
 * The object a command works on, loaded as the user asked: `--type xdp`
 * (bpftool's `prog load ... type xdp`: every program is XDP whatever its
 * section), `--map-size NAME=N` (bpf_map__set_max_entries before load), and
 * the one-line notice for a program whose type was assumed from a pre-1.0
 * section name, as libbpf before 1.0 matched "xdp" as a prefix, and the hint
 * to rebuild with -g when a command needs C lines the object does not carry.
 */
import { FORCED_TYPES, typeNotice, type ForcedType } from '../../xdp/object/program-type.js';
import { loadObjectFile, type LoadedObject } from '../../xdp/object/load-object.js';
import { parseMapSizes, withMapSizes } from '../../xdp/object/map-sizes.js';
import type { Program } from '../../xdp/object/bpf-object.js';
import { UsageError, type Io } from './io.js';

/** The options every command that loads an object shares. */
export interface LoadInputOptions {
  type?: string;
  mapSize?: string[];
}

/** commander's collector for a repeatable option. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function forcedType(text: string | undefined): ForcedType | undefined {
  if (text === undefined) return undefined;
  const t = FORCED_TYPES.find((x) => x === text.toLowerCase());
  if (!t) throw new UsageError(`--type expects ${FORCED_TYPES.join(', ')} (the only program type this tool runs), got '${text}'`);
  return t;
}

export function loadInput(file: string, opts: LoadInputOptions): LoadedObject {
  const progType = forcedType(opts.type);
  const obj = loadObjectFile(file, progType ? { progType } : {});
  return withMapSizes(obj, parseMapSizes(opts.mapSize ?? []));
}

/** Print the notice of each chosen program whose type came from a pre-1.0 section name. */
export function noticeTypes(programs: readonly Program[], io: Io): void {
  for (const p of programs) {
    const notice = typeNotice(p);
    if (notice) io.stderr.write(`offload: notice: ${notice}\n`);
  }
}

/** The programs without a single line of BTF line info (built without -g, or .BTF.ext stripped). */
export function withoutLineInfo(programs: readonly Program[]): Program[] {
  return programs.filter((p) => p.lines.every((l) => l === undefined));
}

/** When C lines are wanted and some programs have none: one hint naming them and how to get them. */
export function hintLineInfo(file: string, programs: readonly Program[], io: Io): void {
  const bare = withoutLineInfo(programs);
  if (bare.length === 0) return;
  const names = bare.map((p) => p.name).join(', ');
  io.stderr.write(`offload: hint: ${file}: no line info for ${names} (built without -g, or its .BTF.ext stripped), so no C source lines; ` +
    'rebuild with clang -g -O2 -target bpf to see them\n');
}

/**
 * Card profiles from JSON: the shipped ones by name (caps/profiles/NAME.json)
 * or any file by path. The document is checked against caps/profile.schema.json
 * with ajv, then for what a schema cannot say (a helper's name matches its id,
 * map types exist, adjust_head parameters come with the helper, the timing
 * model names its own memories, the BAR can hold the packet split). Every
 * problem is reported with its JSON path, and for a file with its line and
 * column, all of them at once.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { HelperId, helperId, helperName, helperSpec } from '../xdp/helpers/helper-registry.js';
import { JsonSyntaxError, parseJson, textPosition } from '../xdp/maps/json-text.js';
import { MapType } from '../xdp/maps/map-types.js';
import { CapsError } from './caps-error.js';
import type { CardProfile } from './profile.js';

/** The repository's caps/ folder (holding profiles/ and the schema), from here or from dist/caps/. */
function capsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'caps', 'profile.schema.json'))) return join(dir, 'caps');
    if (existsSync(join(dir, 'profile.schema.json')) && existsSync(join(dir, 'profiles'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new CapsError('cannot find caps/profile.schema.json above this module');
    dir = up;
  }
}

/** Names of the shipped profiles, sorted. */
export function shippedProfiles(): string[] {
  return readdirSync(join(capsDir(), 'profiles')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** The compiled schema: built on first use, then constant (compiling it costs ~20 ms). */
let validator: ReturnType<Ajv['compile']> | undefined;
function validate(doc: unknown): readonly ErrorObject[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(capsDir(), 'profile.schema.json'), 'utf8')) as object;
    validator = new Ajv({ allErrors: true, strict: true }).compile(schema);
  }
  return validator(doc) ? [] : (validator.errors ?? []);
}

/** `/maps/maxMaps` → `$.maps.maxMaps`, `/helpers/3/id` → `$.helpers[3].id`. */
function jsonPath(pointer: string): string {
  return '$' + pointer.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`)).join('');
}

function schemaMessage(e: ErrorObject): string {
  const path = jsonPath(e.instancePath);
  switch (e.keyword) {
    case 'required': return `${path}: missing field '${(e.params as { missingProperty: string }).missingProperty}'`;
    case 'additionalProperties': return `${path}: unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'`;
    case 'enum': return `${path}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default: return `${path}: ${e.message ?? e.keyword}`;
  }
}

/** What the schema cannot check. */
function semanticProblems(p: CardProfile): string[] {
  const out: string[] = [];
  const ids = new Set<number>();
  p.helpers.forEach((h, i) => {
    const known = helperName(h.id);
    if (!known) out.push(`$.helpers[${i}].id: ${h.id} is not a helper the kernel defines`);
    else if (known !== h.name) {
      const other = helperId(h.name);
      out.push(`$.helpers[${i}].name: '${h.name}' ${other === undefined ? 'is not a helper name' : `is helper ${other}`}; helper ${h.id} is '${known}'`);
    }
    if (ids.has(h.id)) out.push(`$.helpers[${i}].id: helper ${h.id} listed twice`);
    if (h.flags !== undefined && helperSpec(h.id)?.flagsArg === undefined) out.push(`$.helpers[${i}].flags: helper ${h.id} takes no flags argument`);
    ids.add(h.id);
  });
  p.maps.types.forEach((t, i) => {
    if (MapType[t] === undefined) out.push(`$.maps.types[${i}]: '${t}' is not a map type (BPF_MAP_TYPE_ without the prefix, e.g. ARRAY)`);
  });
  if (ids.has(HelperId.XDP_ADJUST_HEAD) && !p.adjustHead) out.push(`$.adjustHead: missing, but bpf_xdp_adjust_head (${HelperId.XDP_ADJUST_HEAD}) is listed`);
  if (!ids.has(HelperId.XDP_ADJUST_HEAD) && p.adjustHead) out.push(`$.adjustHead: present, but bpf_xdp_adjust_head (${HelperId.XDP_ADJUST_HEAD}) is not listed in $.helpers`);
  if (p.adjustHead && p.adjustHead.offMin > p.adjustHead.offMax) out.push(`$.adjustHead.offMin: ${p.adjustHead.offMin} is above offMax ${p.adjustHead.offMax}`);
  if ((p.packetSplitBytes + 32) % 64 !== 0) {
    out.push(`$.packetSplitBytes: ${p.packetSplitBytes} is not 64·n − 32 (the control BAR holds n: ${Math.floor((p.packetSplitBytes + 32) / 64) * 64 - 32} or ${Math.ceil((p.packetSplitBytes + 32) / 64) * 64 - 32})`);
  }
  if (p.stack.bytes % p.stack.frameBytes !== 0) out.push(`$.stack.frameBytes: ${p.stack.frameBytes} does not divide the stack of ${p.stack.bytes} bytes`);
  const memories = new Set<string>();
  p.timing.memories.forEach((m, i) => {
    if (memories.has(m.name)) out.push(`$.timing.memories[${i}].name: '${m.name}' named twice`);
    memories.add(m.name);
  });
  for (const field of ['packetMemory', 'mapMemory', 'stackMemory'] as const) {
    if (!memories.has(p.timing[field])) out.push(`$.timing.${field}: '${p.timing[field]}' is not one of $.timing.memories (${[...memories].join(', ')})`);
  }
  if (p.isa.atomics.ops.length > 0 && p.isa.atomics.on.length === 0) out.push(`$.isa.atomics.on: atomics are listed but allowed on no memory`);
  return out;
}

/** Where the value at a JSON path (or its closest enclosing value) starts in the file, as `line L, column C`. */
export type Locate = (path: string) => string | undefined;

/** `$.stack.bytes: must be >= 0` → `line 40, column 14: $.stack.bytes: must be >= 0`. */
function withPosition(problem: string, locate: Locate | undefined): string {
  const path = /^(\$[^:\s]*):/.exec(problem)?.[1];
  const where = path !== undefined ? locate?.(path) : undefined;
  return where !== undefined ? `${where}: ${problem}` : problem;
}

/** A profile from a parsed JSON document; `source` names it in messages, `locate` places a JSON path in its text. */
export function profileFromJson(doc: unknown, source: string, locate?: Locate): CardProfile {
  const schemaErrors = validate(doc).map(schemaMessage);
  const problems = schemaErrors.length > 0 ? schemaErrors : semanticProblems(doc as CardProfile);
  if (problems.length > 0) {
    const lines = [...new Set(problems)].map((p) => withPosition(p, locate));
    throw new CapsError(`not a valid card profile:\n  ${lines.join('\n  ')}`, { file: source });
  }
  return doc as CardProfile;
}

/** A Locate over `text` from the value positions parseJson recorded: a path not found falls back to its parent. */
function locator(text: string, positions: Map<string, number>): Locate {
  return (path) => {
    for (let p = path; ; ) {
      const at = positions.get(p);
      if (at !== undefined) return textPosition(text, at);
      const parent = p.replace(/(\.[^.[]*|\[[^\]]*\])$/, '');
      if (parent === p) return undefined;
      p = parent;
    }
  };
}

/** Read and check a profile file. */
export function loadProfileFile(path: string): CardProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CapsError(code === 'EISDIR' ? 'is a directory, not a profile (JSON)' : `cannot read: ${code ?? (e as Error).message}`, { file: path });
  }
  const positions = new Map<string, number>();
  let doc: unknown;
  try {
    doc = parseJson(text, path, positions);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new CapsError(`not JSON: ${e.detail}`, { file: path, path: e.path });
    throw e;
  }
  return profileFromJson(doc, path, locator(text, positions));
}

/** `--caps` takes a shipped profile's name or a file path. */
export function resolveProfile(arg: string, cwd = process.cwd()): { profile: CardProfile; source: string } {
  const shipped = shippedProfiles();
  if (shipped.includes(arg)) {
    const path = join(capsDir(), 'profiles', `${arg}.json`);
    return { profile: loadProfileFile(path), source: arg };
  }
  if (arg.trim() === '') throw new CapsError(`--caps expects a profile name (${shipped.join(', ')}) or a JSON file, got ''`);
  const path = resolve(cwd, arg);
  if (!existsSync(path)) {
    throw new CapsError(`no such profile or file (shipped profiles: ${shipped.join(', ')})`, { file: arg });
  }
  return { profile: loadProfileFile(path), source: arg };
}

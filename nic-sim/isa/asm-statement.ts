/**
 * One statement of card assembly as text: `mnemonic[arg, ...], option, option[arg]`,
 * split at top-level commas (LM operands carry their own brackets), and the checks
 * every form makes on its arguments and options.
 */
import { parseNumber } from './asm-operands.js';
import type { Fail } from './errors.js';
import { OPT } from './syntax.js';

export interface Statement {
  readonly mnemonic: string;
  readonly args: readonly string[];
  readonly options: ReadonlyMap<string, string | undefined>;
}

/** Split at commas outside brackets. */
function splitTop(text: string, fail: Fail): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') {
      depth--;
      if (depth < 0) fail(`unbalanced "]" in "${text}"`);
    } else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (depth !== 0) fail(`unbalanced "[" in "${text}"`);
  parts.push(text.slice(start).trim());
  if (parts.some((p) => p === '')) fail(`empty item in "${text}"`);
  return parts;
}

export function parseStatement(text: string, fail: Fail): Statement {
  const m = /^([^\s[,]+)\s*/.exec(text);
  if (!m) return fail(`cannot read "${text}"`);
  const mnemonic = (m[1] as string).toLowerCase();
  let rest = text.slice(m[0].length);
  let args: string[] = [];
  if (rest.startsWith('[')) {
    let depth = 0;
    let end = -1;
    for (let i = 0; i < rest.length && end < 0; i++) {
      if (rest[i] === '[') depth++;
      else if (rest[i] === ']' && --depth === 0) end = i;
    }
    if (end < 0) fail(`missing "]" in "${text}"`);
    const inner = rest.slice(1, end).trim();
    args = inner === '' ? [] : splitTop(inner, fail);
    rest = rest.slice(end + 1).trim();
  }
  const options = new Map<string, string | undefined>();
  if (rest !== '') {
    if (!rest.startsWith(',')) fail(`unexpected "${rest}" after ${mnemonic}[...]`);
    for (const opt of splitTop(rest.slice(1).trim(), fail)) {
      const om = /^(\w+)\s*(?:\[\s*(.*?)\s*\])?$/.exec(opt);
      if (!om) return fail(`"${opt}" is not an option`);
      const name = (om[1] as string).toLowerCase();
      if (options.has(name)) fail(`option ${name} given twice`);
      options.set(name, om[2]);
    }
  }
  return { mnemonic, args, options };
}

export function argCount(st: Statement, min: number, max: number, shape: string, fail: Fail): void {
  if (st.args.length < min || st.args.length > max) fail(`${st.mnemonic} takes ${shape}`);
}

/** Options a form accepts; anything else is refused. */
export function allowOptions(st: Statement, allowed: readonly string[], fail: Fail): void {
  for (const name of st.options.keys()) {
    if (!allowed.includes(name)) fail(`${st.mnemonic} does not take the option ${name}`);
  }
}

export function flag(st: Statement, name: string, fail: Fail): boolean {
  if (!st.options.has(name)) return false;
  if (st.options.get(name) !== undefined) fail(`option ${name} takes no argument`);
  return true;
}

export function deferOf(st: Statement, fail: Fail): number {
  if (!st.options.has(OPT.defer)) return 0;
  const arg = st.options.get(OPT.defer);
  if (arg === undefined) return fail('defer needs a count: defer[n]');
  return parseNumber(arg, 'defer', fail);
}

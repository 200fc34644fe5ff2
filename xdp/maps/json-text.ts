/**
 * JSON text for map dumps, with 64-bit integers kept exact: bpftool prints a
 * __u64 as its decimal digits (18446744073709551615), which JSON.parse would
 * round. parseJson gives integers beyond Number.MAX_SAFE_INTEGER as bigint and
 * says where a syntax error is (line and column); formatJson writes bigint as
 * digits. Duplicate object keys are refused rather than silently dropped.
 * On request it records where each value starts (by JSON path, `$.a[0].b`),
 * so a document checked later (a card profile) can name the line of a bad value.
 */
import { MapJsonError } from './map-errors.js';

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** `line L, column C` (both from 1) of character offset `at` in `text`. */
export function textPosition(text: string, at: number): string {
  let line = 1;
  let col = 1;
  for (let k = 0; k < at && k < text.length; k++) {
    if (text[k] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line}, column ${col}`;
}

/** Text that is not JSON: `detail` says what is wrong, `path` is `line L, column C`. */
export class JsonSyntaxError extends MapJsonError {
  readonly detail: string;
  constructor(detail: string, file: string | undefined, position: string) {
    super(`invalid JSON: ${detail}`, file, position);
    this.detail = detail;
  }
}

/**
 * Parse JSON text. `positions`, when given, receives the character offset where
 * each value starts, keyed by its JSON path (`$`, `$.maps[0].name`).
 */
export function parseJson(text: string, file?: string, positions?: Map<string, number>): JsonValue {
  let i = 0;
  const fail = (msg: string, at = i): never => {
    throw new JsonSyntaxError(msg, file, textPosition(text, at));
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const describe = (): string => (i >= text.length ? 'end of text' : `'${text[i]}'`);

  const value = (depth: number, path: string): JsonValue => {
    if (depth > 512) fail('nested more than 512 levels deep');
    ws();
    positions?.set(path, i);
    const c = text[i];
    if (c === '{') return object(depth, path);
    if (c === '[') return array(depth, path);
    if (c === '"') return string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(`expected a value, found ${describe()}`);
  };

  const object = (depth: number, path: string): JsonValue => {
    const out: { [key: string]: JsonValue } = {};
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') fail(`expected a string key, found ${describe()}`);
      const at = i;
      const key = string();
      if (Object.prototype.hasOwnProperty.call(out, key)) fail(`duplicate key "${key}"`, at);
      ws();
      if (text[i] !== ':') fail(`expected ':' after key "${key}", found ${describe()}`);
      i++;
      Object.defineProperty(out, key, { value: value(depth + 1, positions ? `${path}.${key}` : path), enumerable: true, writable: true, configurable: true });
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      fail(`expected ',' or '}', found ${describe()}`);
    }
  };

  const array = (depth: number, path: string): JsonValue => {
    const out: JsonValue[] = [];
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(value(depth + 1, positions ? `${path}[${out.length}]` : path));
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return out;
      }
      fail(`expected ',' or ']', found ${describe()}`);
    }
  };

  const string = (): string => {
    const start = i;
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c < ' ') fail('control character in a string');
      if (c === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          fail('invalid escape in a string');
        }
        continue;
      }
      out += c;
      i++;
    }
  };

  const number = (): number | bigint => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (m === null) return fail('invalid number');
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };

  const result = value(0, '$');
  ws();
  if (i < text.length) fail(`unexpected ${describe()} after the document`);
  return result;
}

/** JSON text of `value` (bigint written as its digits), indented by `indent` spaces (0: one line). */
export function formatJson(value: unknown, indent = 2): string {
  const nl = indent > 0 ? '\n' : '';
  const emit = (v: unknown, depth: number): string => {
    if (typeof v === 'bigint') return v.toString();
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    const pad = ' '.repeat(indent * (depth + 1));
    const end = ' '.repeat(indent * depth);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x) => emit(x, depth + 1)).join(indent > 0 ? ', ' : ',')}]`;
      return `[${nl}${v.map((x) => pad + emit(x, depth + 1)).join(`,${nl}`)}${nl}${end}]`;
    }
    if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
      if (entries.length === 0) return '{}';
      const sep = indent > 0 ? ': ' : ':';
      return `{${nl}${entries.map(([k, x]) => `${pad}${JSON.stringify(k)}${sep}${emit(x, depth + 1)}`).join(`,${nl}`)}${nl}${end}}`;
    }
    return 'null';
  };
  return emit(value, 0);
}

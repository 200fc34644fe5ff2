/**
 * What differs between two card profiles, leaf by leaf, by JSON path. Lists of
 * records are compared as records by name (`$.helpers[bpf_redirect]`,
 * `$.timing.memories[ctm].latencyCycles`), in id order where the records have
 * ids, so a helper added to one card is one difference, not a shifted index.
 * Lists of plain values (actions, map types) are compared whole. Values stay
 * what the profile holds: numbers as numbers, records as records.
 */
import type { CardProfile } from './profile.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Rec = { [key: string]: Json };

/** One difference: `a` or `b` is absent when the value exists on one side only. */
export interface ProfileDifference {
  readonly path: string;
  readonly change: 'changed' | 'added' | 'removed';
  readonly a?: Json;
  readonly b?: Json;
}

const isRecord = (v: Json | undefined): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRecordList = (v: Json | undefined): v is Rec[] => Array.isArray(v) && v.length > 0 && v.every(isRecord) && v.every((r) => typeof r.name === 'string');

function same(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]!));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && same(a[k]!, b[k]!));
  }
  return false;
}

/** Records of both lists by name: by id where they have one, else in the order A then B lists them. */
function pairByName(a: Rec[], b: Rec[]): [string, Rec | undefined, Rec | undefined][] {
  const byName = new Map<string, [Rec | undefined, Rec | undefined]>();
  for (const r of a) byName.set(r.name as string, [r, undefined]);
  for (const r of b) byName.set(r.name as string, [byName.get(r.name as string)?.[0], r]);
  const rows = [...byName].map(([name, [x, y]]) => [name, x, y] as [string, Rec | undefined, Rec | undefined]);
  const id = (row: [string, Rec | undefined, Rec | undefined]) => (row[1] ?? row[2])!.id;
  if (rows.every((r) => typeof id(r) === 'number')) rows.sort((p, q) => (id(p) as number) - (id(q) as number));
  return rows;
}

function walk(a: Json | undefined, b: Json | undefined, path: string, out: ProfileDifference[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) {
    out.push({ path, change: 'added', b: b! });
    return;
  }
  if (b === undefined) {
    out.push({ path, change: 'removed', a });
    return;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) walk(a[k], b[k], `${path}.${k}`, out);
    return;
  }
  if ((isRecordList(a) || (Array.isArray(a) && a.length === 0)) && (isRecordList(b) || (Array.isArray(b) && b.length === 0)) && (a.length > 0 || b.length > 0)) {
    for (const [name, x, y] of pairByName(a as Rec[], b as Rec[])) walk(x, y, `${path}[${name}]`, out);
    return;
  }
  if (!same(a, b)) out.push({ path, change: 'changed', a, b });
}

/** Every difference between two profiles, in the order the profile lists its fields. */
export function diffProfiles(a: CardProfile, b: CardProfile): ProfileDifference[] {
  const out: ProfileDifference[] = [];
  walk(a as unknown as Json, b as unknown as Json, '$', out);
  return out;
}

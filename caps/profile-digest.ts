/**
 * A card profile's identity: the SHA-256 of its canonical JSON (docs/nic-image.md,
 * `caps_digest`: "the SHA-256 of its canonical JSON (keys sorted)"). A card image
 * records the digest of the profile it was built for and loads only on a profile
 * with the same digest. Canonical JSON: object keys sorted (by UTF-16 code units)
 * at every depth, arrays in their order, no white space, properties whose value is
 * `undefined` left out (as JSON.stringify does).
 */
import { createHash } from 'node:crypto';
import type { CardProfile } from './profile.js';

/** `value` as canonical JSON text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 of the profile's canonical JSON, as 64 lower-case hex digits. */
export function profileDigest(profile: CardProfile): string {
  return createHash('sha256').update(canonicalJson(profile), 'utf8').digest('hex');
}

/** caps/profile-digest.ts: the SHA-256 of a profile's canonical JSON identifies it, whatever its key order. */
import { describe, expect, it } from 'vitest';
import { canonicalJson, profileDigest } from '../../caps/profile-digest.js';
import { resolveProfile } from '../../caps/load-profile.js';
import type { CardProfile } from '../../caps/profile.js';
import { MINIMAL, NFP } from './sample.js';

/** The same value with every object's keys in reverse order. */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reversedKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth, keeps array order, leaves out undefined properties', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 'x' }, 3], e: undefined, f: null })).toBe('{"a":[{"c":"x","d":2},3],"b":1,"f":null}');
    expect(canonicalJson({ '10': 1, '9': 2 })).toBe('{"10":1,"9":2}');
  });
});

describe('profileDigest', () => {
  it('is 64 hex digits, the same for the same profile read twice', () => {
    const d = profileDigest(NFP);
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(profileDigest(resolveProfile('nfp-4000').profile)).toBe(d);
    expect(profileDigest(structuredClone(NFP))).toBe(d);
  });

  it('differs between profiles and after any change of a field, however deep', () => {
    const d = profileDigest(NFP);
    expect(profileDigest(MINIMAL)).not.toBe(d);
    expect(profileDigest({ ...NFP, maxInsns: NFP.maxInsns - 1 })).not.toBe(d);
    expect(profileDigest({ ...NFP, timing: { ...NFP.timing, costs: { ...NFP.timing.costs, alu: 2 } } })).not.toBe(d);
    const helpers = NFP.helpers.map((h) => (h.id === 1 ? { ...h, address: (h.address ?? 0) + 64 } : h));
    expect(profileDigest({ ...NFP, helpers })).not.toBe(d);
    expect(profileDigest({ ...NFP, helpers: [...NFP.helpers].reverse() })).not.toBe(d);
  });

  it('does not depend on key order', () => {
    const shuffled = reversedKeys(NFP) as CardProfile;
    expect(Object.keys(shuffled)[0]).not.toBe(Object.keys(NFP)[0]);
    expect(profileDigest(shuffled)).toBe(profileDigest(NFP));
  });

  it('ignores a property set to undefined, as JSON does', () => {
    expect(MINIMAL.adjustHead).toBeUndefined();
    expect(profileDigest({ ...MINIMAL, adjustHead: undefined })).toBe(profileDigest(MINIMAL));
  });
});

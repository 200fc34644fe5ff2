/**
 * The program type of a section, as loaders decide it: a libbpf 1.0 section
 * name says it (section-types.ts); a name that only begins with "xdp"
 * ("xdp1", "xdp_prog", samples/bpf style) was XDP to libbpf before 1.0, whose
 * section_defs matched "xdp" as a prefix (libbpf 1.x refuses such sections);
 * and a loader may be told the type whatever the section is called —
 * bpftool's `prog load FILE PATH type xdp`, which calls
 * bpf_program__set_type / bpf_program__set_expected_attach_type on every
 * program (the XDP tutorial's and Suricata's section "prog").
 */
import { sectionType, type SectionType } from './section-types.js';

/** Program types a user can force with `--type` (bpftool's `type` argument); only XDP is ours. */
export const FORCED_TYPES = ['xdp'] as const;
export type ForcedType = (typeof FORCED_TYPES)[number];

/** Pre-1.0 prefixes with an attach type of their own (libbpf 0.x "xdp_devmap/", "xdp_cpumap/"). */
const LEGACY_XDP_PREFIXES: readonly (readonly [string, SectionType])[] = [
  ['xdp_devmap/', { progType: 'XDP', attach: 'XDP_DEVMAP', assumed: 'legacy-name' }],
  ['xdp_cpumap/', { progType: 'XDP', attach: 'XDP_CPUMAP', assumed: 'legacy-name' }],
  ['xdp', { progType: 'XDP', attach: 'XDP', assumed: 'legacy-name' }],
];

/**
 * The type of the programs of `section`: undefined when neither the name nor
 * `forced` says one (the caller reports it as a program of unknown type).
 * `forced` keeps the attach type and frags of a section that is XDP already.
 */
export function programType(section: string, forced?: ForcedType): SectionType | undefined {
  const named = sectionType(section);
  if (forced === 'xdp') {
    return named?.progType === 'XDP' ? named : { progType: 'XDP', attach: 'XDP', assumed: 'option' };
  }
  if (named) return named;
  return LEGACY_XDP_PREFIXES.find(([prefix]) => section.startsWith(prefix))?.[1];
}

/** The one-line notice for a program whose type came from a pre-1.0 section name, else undefined. */
export function typeNotice(p: { readonly name: string; readonly section: string; readonly type: SectionType }): string | undefined {
  if (p.type.assumed !== 'legacy-name') return undefined;
  return `section '${p.section}' is not a libbpf 1.0 section name: program '${p.name}' is taken as XDP ` +
    `(attach ${p.type.attach ?? 'XDP'}), as libbpf before 1.0 did; --type xdp says so and silences this notice`;
}

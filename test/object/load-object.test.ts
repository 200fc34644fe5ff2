import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../../xdp/errors.js';
import { kindOf } from '../../xdp/isa/kind.js';
import { LddwSrc } from '../../xdp/isa/opcodes.js';
import { mapTypeName } from '../../xdp/maps/map-types.js';
import { libbpfMapDef } from '../../xdp/maps/map-validate.js';
import { possibleCpus } from '../../xdp/kernel/bpf-syscall.js';
import { findPrograms, loadObjectFile, selectProgram } from '../../xdp/object/load-object.js';
import { FIXTURE_OBJ, REPO, builtWithoutDebugInfo, fixtureObjects, hasCommand } from '../support/paths.js';

const fixture = (name: string) => loadObjectFile(join(FIXTURE_OBJ, `${name}.o`));

describe('object loader on the fixtures', () => {
  const objects = fixtureObjects();

  it.each(objects.map((p) => [basename(p), p]))('%s: every instruction has the C line BTF says, matching the source file', (_n, path) => {
    const obj = loadObjectFile(path);
    expect(obj.programs.length).toBeGreaterThan(0);
    if (builtWithoutDebugInfo(path)) {
      // Built without -g: no BTF, no line info, and none made up.
      expect([obj.hasBtf, obj.hasLineInfo]).toEqual([false, false]);
      for (const p of obj.programs) expect(p.lines.filter((l) => l !== undefined)).toEqual([]);
      return;
    }
    expect(obj.hasLineInfo).toBe(true);
    for (const p of obj.programs) {
      let covered = 0;
      p.lines.forEach((pos) => {
        if (!pos || pos.line === 0) return;
        covered++;
        const src = readFileSync(join(REPO, pos.file), 'utf8').split('\n');
        expect(src[pos.line - 1]).toBe(pos.text);
      });
      expect(covered).toBeGreaterThan(p.insns.length * 0.8);
    }
  });

  it('links a .text subprogram after the program and retargets the call', () => {
    const p = selectProgram(fixture('subprog_call'));
    expect(p.funcs.map((f) => [f.name, f.section])).toEqual([
      ['xdp_check_ipv4_csum', 'xdp'],
      ['ipv4_header_csum', '.text'],
    ]);
    const calls = p.insns.map((insn, i) => ({ insn, i })).filter(({ insn }) => {
      const k = kindOf(insn);
      return k.k === 'call' && k.target === 'local';
    });
    expect(calls.length).toBeGreaterThan(0);
    for (const { insn, i } of calls) expect(p.slots[i]! + insn.imm + 1).toBe(p.funcs[1]!.slot);
    expect(p.funcs[1]!.btfTypeId).toBeGreaterThan(0);
  });

  it('rewrites map references to map indices and global data to value offsets', () => {
    const obj = fixture('rodata_config');
    const p = obj.programs[0]!;
    const lddws = p.insns.filter((i) => kindOf(i).k === 'lddw');
    expect(lddws.length).toBeGreaterThan(0);
    for (const l of lddws) {
      expect([LddwSrc.MAP_IDX, LddwSrc.MAP_IDX_VALUE]).toContain(l.src);
      const m = obj.maps[l.imm]!;
      expect(m).toBeDefined();
      if (l.src === LddwSrc.MAP_IDX_VALUE) expect(l.next!.imm).toBeLessThan(m.valueSize);
    }
    const rodata = obj.maps.find((m) => m.name === '.rodata')!;
    expect(rodata.origin).toBe('global-data');
    expect(rodata.flags & 0x80).toBe(0x80); // BPF_F_RDONLY_PROG
    expect(rodata.initialValue!.length).toBe(rodata.valueSize);
  });

  it('reads legacy `maps` definitions', () => {
    const obj = fixture('legacy_maps');
    expect(obj.maps.filter((m) => m.origin === 'legacy').map((m) => [m.name, mapTypeName(m.type), m.keySize, m.valueSize]))
      .toEqual([['ethertype_count', 'ARRAY', 4, 8], ['total_bytes', expect.any(String), 4, 8]]);
  });

  it('reads map-in-map inner definitions, .values initialisers and pinning', () => {
    const obj = fixture('map_in_map');
    const outer = obj.maps.find((m) => m.type === 12 || m.type === 13)!;
    expect(outer.inner).toBeDefined();
    expect(outer.initialSlots!.length).toBeGreaterThan(0);
    expect(obj.maps.some((m) => m.pinning === 1)).toBe(true);
  });

  it('records PROG_ARRAY initial programs and finds several programs in one section', () => {
    const obj = fixture('tail_call');
    expect(obj.programs.length).toBeGreaterThanOrEqual(3);
    const jmp = obj.maps.find((m) => mapTypeName(m.type) === 'PROG_ARRAY')!;
    for (const s of jmp.initialSlots ?? []) expect(obj.programs.map((p) => p.name)).toContain(s.name);
    expect(() => selectProgram(obj, 'xdp')).toThrow(/holds 3 programs/);
    expect(selectProgram(obj, obj.programs[1]!.name).name).toBe(obj.programs[1]!.name);
  });

  it('names other program types in a clear refusal', () => {
    const obj = fixture('basic_actions');
    expect(obj.programs.map((p) => p.section)).toEqual(expect.arrayContaining(['xdp', 'xdp/pass', 'xdp.frags']));
    expect(obj.programs.find((p) => p.section === 'xdp.frags')!.type.frags).toBe(true);
    expect(obj.foreign.length).toBeGreaterThan(0);
    const f = obj.foreign[0]!;
    expect(() => findPrograms(obj, f.section)).toThrow(UnsupportedError);
    expect(() => findPrograms(obj, f.section)).toThrow(new RegExp(`${f.progType} program`));
    expect(() => findPrograms(obj, 'nosuch')).toThrow(/no program or section 'nosuch'/);
  });
});

// libbpf (through bpftool, with the kernel creating the maps) is the oracle for map definitions.
const BPFFS = existsSync('/proc/mounts') && / \/sys\/fs\/bpf bpf /.test(readFileSync('/proc/mounts', 'utf8'));
const HAVE_BPFTOOL = hasCommand('bpftool') && BPFFS && process.getuid?.() === 0;
if (!HAVE_BPFTOOL) console.log('SKIP map definitions vs libbpf: needs bpftool, bpffs mounted at /sys/fs/bpf, and root');

/**
 * Objects libbpf may refuse before the kernel sees them, and why; any other refusal fails the test
 * with bpftool's own error. (The kfunc ones depend on the running kernel's BTF and libbpf's version.)
 */
const LIBBPF_MAY_REFUSE: Readonly<Record<string, RegExp>> = {
  rw_static_progs: /program 'tail_ipv4' is static and not supported/,
  rw_kfunc_missing: /extern \(func ksym\) 'bpf_xdp_flow_lookup': not found in kernel or module BTFs/,
  rw_kfunc_ct_mark: /extern \(func ksym\) 'bpf_ct_\w+': func_proto \[\d+\] incompatible with kernel/,
};

interface KernelMap { name: string; type: string; bytes_key: number; bytes_value: number; max_entries: number }
const bpftoolJson = <T>(...args: string[]): T => JSON.parse(execFileSync('bpftool', [...args, '-j'], { encoding: 'utf8' })) as T;

/**
 * The maps libbpf created for the programs pinned under `progs`, by name: every map a program uses,
 * and the inner maps in the slots of a map-in-map (found through the programs, since libbpf pins a
 * LIBBPF_PIN_BY_NAME map at /sys/fs/bpf/NAME and then refuses `pinmaps` for it).
 */
function mapsOfPrograms(progs: string): Map<string, KernelMap> {
  const ids = new Set<number>();
  for (const p of readdirSync(progs)) for (const id of bpftoolJson<{ map_ids?: number[] }>('prog', 'show', 'pinned', join(progs, p)).map_ids ?? []) ids.add(id);
  const out = new Map<string, KernelMap>();
  const visit = (id: number) => {
    const info = bpftoolJson<KernelMap>('map', 'show', 'id', String(id));
    out.set(info.name, info);
    if (/of_maps/.test(info.type)) {
      for (const e of bpftoolJson<{ value: number | string[] }[]>('map', 'dump', 'id', String(id))) {
        const inner = Array.isArray(e.value) ? Buffer.from(e.value.map((b) => parseInt(b, 16))).readUInt32LE(0) : e.value;
        visit(inner);
      }
    }
  };
  for (const id of ids) visit(id);
  return out;
}

describe.runIf(HAVE_BPFTOOL)('map definitions agree with libbpf (bpftool prog loadall)', () => {
  // Objects the kernel accepts and libbpf 1.x can open (it no longer reads legacy `maps`).
  const candidates = fixtureObjects().filter((p) => !/reject_|legacy_maps/.test(basename(p)));
  it.for(candidates.map((p) => [basename(p), p] as const))('%s', ([, path], ctx) => {
    const obj = loadObjectFile(path);
    const name = basename(path, '.o');
    // A LIBBPF_PIN_BY_NAME map is pinned at the pin root; the test removes what it pinned there.
    const byName = obj.maps.filter((m) => m.pinning === 1).map((m) => join('/sys/fs/bpf', m.name)).filter((pin) => !existsSync(pin));
    const dir = mkdtempSync('/sys/fs/bpf/offload-test-');
    try {
      const loadall = (...extra: string[]) => spawnSync('bpftool', ['prog', 'loadall', path, join(dir, 'progs'), ...extra,
        ...(byName.length === 0 && obj.maps.every((m) => m.pinning !== 1) ? ['pinmaps', join(dir, 'maps')] : [])], { encoding: 'utf8' });
      let load = loadall();
      // libbpf 1.x matches section names exactly: old ones (xdp/pass, xdp1) need the type given, as bpftool users do.
      if (load.status !== 0 && /failed to guess program type/.test(load.stderr)) {
        rmSync(join(dir, 'progs'), { recursive: true, force: true });
        load = loadall('type', 'xdp');
      }
      if (load.status !== 0) {
        const refusal = LIBBPF_MAY_REFUSE[name];
        const said = load.stderr.split('\n').filter((l) => /^libbpf: |^Error: /.test(l)).join(' | ');
        expect(refusal !== undefined && refusal.test(load.stderr), `bpftool could not load ${name}.o: ${said}`).toBe(true);
        console.log(`SKIP ${name}.o vs libbpf: libbpf refuses it here, as expected: ${said}`);
        ctx.skip(`libbpf refuses it: ${said}`);
      }
      const kernelMaps = existsSync(join(dir, 'maps')) ? undefined : mapsOfPrograms(join(dir, 'progs'));
      for (const m of obj.maps) {
        // libbpf names a global-data map "<first 8 chars of the object name>.<section>" and pins it
        // with the dot turned into an underscore: rodata_config.o's .rodata is rodata_c_rodata.
        const kernelName = m.origin === 'global-data' ? `${name.slice(0, 8)}${m.name}` : m.name.slice(0, 15);
        const pinned = m.origin === 'global-data' ? kernelName.replace(/\./g, '_') : m.name;
        const info = kernelMaps ? kernelMaps.get(kernelName) : bpftoolJson<KernelMap>('map', 'show', 'pinned', join(dir, 'maps', pinned));
        expect(info, `${name}.o: libbpf created no map '${kernelName}' (${[...(kernelMaps?.keys() ?? [])].join(', ')})`).toBeDefined();
        // Compared with what libbpf creates: a PERF_EVENT_ARRAY left at 0 gets one slot per possible CPU and a
        // RINGBUF a power-of-2 number of pages (map_set_def_max_entries, adjust_ringbuf_sz).
        const created = libbpfMapDef(m, possibleCpus());
        expect({ name: m.name, type: mapTypeName(m.type).toLowerCase(), key: m.keySize, value: m.valueSize, max: created.maxEntries })
          .toEqual({ name: m.name, type: String(info!.type).replace(/ /g, '_'), key: info!.bytes_key, value: info!.bytes_value, max: info!.max_entries });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      for (const pin of byName) rmSync(pin, { force: true });
    }
  });
});

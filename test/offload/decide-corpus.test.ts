/**
 * The offload decision over the whole verifier corpus (385 programs of every
 * shape) on every shipped profile: never an exception, and a verdict that
 * hangs together — `reject` exactly when the verifier refuses (or only a device
 * could run it), `offload` with no reason, `host` with at least one, every
 * instruction reason pointing at a real instruction with its disassembly.
 */
import { describe, expect, it } from 'vitest';
import { resolveProfile, shippedProfiles } from '../../caps/load-profile.js';
import { decideOffload } from '../../offload/rules/decide.js';
import { verifyProgram } from '../../offload/verifier/verifier.js';
import { caseObject, loadCases } from '../verifier/case-loader.js';

describe('offload decision on the verifier corpus', () => {
  const cases = loadCases();
  for (const name of shippedProfiles()) {
    it(`${name}: ${cases.length} programs`, () => {
      const profile = resolveProfile(name).profile;
      const tally = { offload: 0, host: 0, reject: 0 };
      for (const c of cases) {
        const { object, program } = caseObject(c);
        const opts = { privileged: c.privileged, gplCompatible: /GPL/.test(c.license) };
        const report = decideOffload(object, program, profile, opts);
        tally[report.verdict]++;
        const plain = verifyProgram(program, object.maps, opts);
        const where = `${c.group}/${c.name}`;
        if (report.verdict === 'offload') expect(report.reasons, where).toEqual([]);
        if (report.verdict === 'host') expect(report.reasons.length, where).toBeGreaterThan(0);
        // Only a program that writes rx_queue_index is accepted for a device and not for the host:
        // it runs on a card with QUEUE_SELECT, nowhere else.
        if (!plain.ok && report.verdict !== 'reject') {
          expect([report.verdict, profile.queueSelect, /^stx?w \[%r1\+16\]/m.test(c.asm)], where).toEqual(['offload', true, true]);
        }
        if (report.verdict === 'reject' && plain.ok) expect(report.reasons.some((r) => r.rule === 'verifier'), where).toBe(true);
        if (plain.ok) expect(report.verdict, where).not.toBe('reject');
        for (const r of report.reasons) {
          if (r.insn !== undefined && r.rule !== 'verifier') expect(program.slots, where).toContain(r.insn);
          if (r.insn !== undefined && program.slots.includes(r.insn)) expect(r.text, where).toBeTruthy();
        }
        const res = report.resources;
        for (const u of [res.stack, res.maps, res.mapEntries, res.programSize]) expect(u.used, where).toBeGreaterThanOrEqual(0);
      }
      console.log(`${name}: ${tally.offload} offload, ${tally.host} host, ${tally.reject} reject`);
      expect(tally.reject).toBeGreaterThan(0);
      expect(tally.host + tally.offload).toBeGreaterThan(0);
    });
  }
});

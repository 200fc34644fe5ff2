/**
 * Every capture of ../shared/pcaps/tcpdump — clean, malformed, pcapng, other link
 * types — replayed through a program: never a crash, and every record the file
 * holds is either run or counted as skipped (the replay's accounting invariant).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadObjectFile, selectProgram } from '../../xdp/object/load-object.js';
import { replayCapture } from '../../xdp/replay/replay.js';
import { XdpMachine } from '../../xdp/runtime/xdp-machine.js';
import { FIXTURE_OBJ, SHARED, sharedExists } from '../support/paths.js';

const DIR = join(SHARED, 'pcaps', 'tcpdump');
const HAVE = sharedExists('pcaps/tcpdump/MANIFEST.tsv');
if (!HAVE) console.log(`SKIP replay robustness: ${DIR} is absent`);

describe.runIf(HAVE)('replaying every tcpdump capture', () => {
  it('accounts for every record, whatever the file', () => {
    const rows = readFileSync(join(DIR, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    const obj = loadObjectFile(join(FIXTURE_OBJ, 'parse_l3.o'));
    const machine = new XdpMachine(obj, selectProgram(obj), { engine: 'compiled' });
    const totals = { files: 0, packets: 0, run: 0, skipped: 0, stopped: 0 };
    const reasons: Record<string, number> = {};
    for (const [file, , , linkType, packets] of rows) {
      const s = replayCapture(machine, { capture: join(DIR, file!) });
      const ran = Object.values(s.actions).reduce((a, b) => a + b, 0);
      expect(ran + s.skipped, file).toBe(s.packets);
      if (!s.captureError) expect(s.packets, `${file}: the manifest counts ${packets} records`).toBe(Number(packets));
      if (linkType !== '1') expect(ran, `${file} is not Ethernet`).toBe(0);
      totals.files++;
      totals.packets += s.packets;
      totals.run += ran;
      totals.skipped += s.skipped;
      if (s.captureError) totals.stopped++;
      for (const [r, n] of Object.entries(s.skippedByReason)) reasons[r.replace(/\d+/g, 'N')] = (reasons[r.replace(/\d+/g, 'N')] ?? 0) + n;
    }
    console.log(`replayed ${totals.files} captures: ${totals.packets} records = ${totals.run} run + ${totals.skipped} skipped; ` +
      `${totals.stopped} stopped at a framing error; skips: ${JSON.stringify(reasons)}`);
    expect(totals.files).toBe(rows.length);
  });
});

/**
 * The HTML report in a real browser (Debian's chromium, driven by playwright-core): it
 * loads with nothing fetched from the network, every chart has rendered with data (its
 * data marks counted against what it says it holds, and laid out with a size), and a
 * screenshot is saved beside the report for a person to look at.
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../offload/cli/main.js';
import { FIXTURE_OBJ, REPO } from '../support/paths.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!CHROMIUM) console.log('report-browser: skipped: no chromium (apt-get install chromium); .ci/run installs it');

async function run(...argv: string[]): Promise<number> {
  return main(argv, { stdout: { write: () => true }, stderr: { write: () => true } });
}

describe.skipIf(!CHROMIUM)(`the report in a browser${CHROMIUM ? '' : ' (skipped: no chromium)'}`, () => {
  it('every chart renders with data, nothing is fetched, and a screenshot is taken', async () => {
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const report = join(dir, 'report.html');
    expect(await run('run', join(FIXTURE_OBJ, 'firewall_5tuple.o'), '--pcap', join(REPO, 'fixtures', 'pcap', 'firewall.pcap'), '--report', report, '--no-progress')).toBe(0);
    const browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${report}`);
      expect(requests).toEqual([`file://${report}`]);
      const charts = await page.$$eval('[data-chart]', (els) => els.map((e) => {
        const box = e.getBoundingClientRect();
        return { name: e.getAttribute('data-chart'), says: Number(e.getAttribute('data-points')), marks: e.querySelectorAll('.datum').length, w: box.width, h: box.height };
      }));
      expect(charts.map((c) => c.name).sort()).toEqual(['actions', 'hot-insns', 'hot-lines', 'latency', 'resources', 'scaling', 'utilisation']);
      for (const c of charts) {
        expect(c.says, c.name!).toBeGreaterThan(0);
        expect(c.marks, c.name!).toBe(c.says);
        expect(c.w * c.h, c.name!).toBeGreaterThan(0);
      }
      // The latency bars have height; the hottest line has a bar.
      const tallest = await page.$$eval('[data-chart="latency"] rect.datum', (els) => Math.max(...els.map((e) => e.getBoundingClientRect().height)));
      expect(tallest).toBeGreaterThan(10);
      const shot = join(REPO, 'test', 'report', 'last-report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

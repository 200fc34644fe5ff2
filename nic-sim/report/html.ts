/**
 * `offload run --report report.html`: one self-contained page (inline CSS and SVG, no
 * script, nothing fetched) with what a replay found: the summary, the latency
 * histogram, throughput against engines and threads, the hot spots per C line (beside
 * the source) and per eBPF instruction, the actions, and the utilisation of every
 * resource. Built from plain data (ReportData); every text from the program or the
 * capture is escaped.
 */
import type { Resource, Scaling } from '../timing/capacity.js';
import type { HotSpots } from './hotspots.js';
import { barChart, escapeHtml, histogram, lineChart, type Bar, type Bucket } from './svg.js';

export interface ReportData {
  readonly title: string;
  /** Where it ran: `the card nfp-4000`, `the host CPU (not offloadable on nfp-4000: …)`. */
  readonly where: string;
  readonly summary: readonly (readonly [string, string])[];
  /** Actions, drops before the program and skipped records, with counts. */
  readonly outcomes: readonly Bar[];
  readonly latency: { readonly buckets: readonly Bucket[]; readonly p50: number; readonly p99: number; readonly max: number };
  readonly scaling?: Scaling;
  readonly resources: readonly Resource[];
  readonly utilisation: readonly Bar[];
  readonly hotSpots?: HotSpots;
  /** Why a section has no data (the host path has no card counters). */
  readonly notes?: Readonly<Record<string, string>>;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d2330;background:#fbfbfd}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dbe3;padding-bottom:4px}
.where{color:#4a5468;margin-bottom:14px}table{border-collapse:collapse}td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
th{font-weight:600;color:#4a5468}.num{text-align:right;font-variant-numeric:tabular-nums}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}svg rect{fill:#3f6fd8}svg .axis{stroke:#8a93a6}svg .mark{stroke:#d8553f;stroke-dasharray:4 3}
svg .mark-label{fill:#d8553f}svg polyline{stroke-width:2}svg .s0 polyline,svg .s0 circle{stroke:#3f6fd8;fill:#3f6fd8}
svg .s1 polyline,svg .s1 circle{stroke:#2f9e6b;fill:#2f9e6b}svg .s2 polyline,svg .s2 circle{stroke:#d8553f;fill:#d8553f}
svg .s3 polyline,svg .s3 circle{stroke:#8a4fd0;fill:#8a4fd0}svg .s4 polyline,svg .s4 circle{stroke:#c49a1b;fill:#c49a1b}
svg .s5 polyline,svg .s5 circle{stroke:#555;fill:#555}svg polyline{fill:none!important}
.src{font:12px ui-monospace,monospace;white-space:pre}.bar{display:inline-block;height:10px;background:#3f6fd8;vertical-align:middle}
.sleep{background:#9db4ea}.note{color:#6b7488;font-style:italic}.cold{color:#9aa1b1}
`;

const num = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '∞');

function spotBar(cycles: number, sleep: number, max: number): string {
  const w = (v: number) => (max > 0 ? Math.round((v / max) * 160) : 0);
  return `<span class="bar" style="width:${w(cycles)}px"></span><span class="bar sleep" style="width:${w(sleep)}px"></span>`;
}

function hotSpotSections(h: HotSpots): string {
  const per = (v: number) => (h.packets > 0 ? v / h.packets : 0);
  const maxLine = Math.max(...h.lines.map((l) => l.cycles + l.sleep), 1e-12);
  const lineRows = h.lines.map((l) =>
    `<tr class="datum"><td class="num">${escapeHtml(`${l.file.split('/').pop()}:${l.line}`)}</td><td class="num">${num(per(l.cycles), 1)}</td><td class="num">${num(per(l.sleep), 1)}</td><td>${spotBar(l.cycles, l.sleep, maxLine)}</td><td class="src">${escapeHtml(l.text)}</td></tr>`).join('');
  const maxInsn = Math.max(...h.insns.map((i) => i.cycles + i.sleep), 1e-12);
  const insnRows = h.insns.map((i) =>
    `<tr class="datum${i.cycles + i.sleep === 0 ? ' cold' : ''}"><td class="num">${i.index}</td><td class="num">${num(per(i.cycles), 1)}</td><td class="num">${num(per(i.sleep), 1)}</td><td>${spotBar(i.cycles, i.sleep, maxInsn)}</td><td class="src">${escapeHtml(i.text)}</td><td class="src">${i.line ? escapeHtml(`${i.line.file.split('/').pop()}:${i.line.line}`) : ''}</td></tr>`).join('');
  return `<h2>Hot spots per C line</h2>
<p>Engine cycles and memory sleep per packet, summed over each line's eBPF instructions (dark: cycles, light: sleeping on memory). The card's prologue, outro and pad: ${num(per(h.glue.cycles), 1)} cycles per packet.</p>
${h.lines.length ? `<table data-chart="hot-lines" data-points="${h.lines.length}"><tr><th>line</th><th>cycles</th><th>sleep</th><th></th><th>source</th></tr>${lineRows}</table>` : '<p class="note">The object has no line information (built without -g).</p>'}
<h2>Hot spots per eBPF instruction</h2>
<table data-chart="hot-insns" data-points="${h.insns.length}"><tr><th>insn</th><th>cycles</th><th>sleep</th><th></th><th>instruction</th><th>line</th></tr>${insnRows}</table>`;
}

export function renderReport(d: ReportData): string {
  const note = (k: string) => (d.notes?.[k] ? `<p class="note">${escapeHtml(d.notes[k])}</p>` : '');
  const summary = d.summary.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  // Resources this traffic does not use at all (no commands to a memory, no locks taken) are no limit.
  const resources = d.resources.filter((r) => Number.isFinite(r.mpps)).map((r) => ({ label: r.name, value: r.mpps, note: 'Mpps' }));
  const unused = d.resources.filter((r) => !Number.isFinite(r.mpps)).map((r) => r.name);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(d.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(d.title)}</h1>
<div class="where">${escapeHtml(d.where)}</div>
<table>${summary}</table>
<h2>Latency</h2>
${d.latency.buckets.length ? histogram('latency', d.latency.buckets, [{ label: 'p50', at: d.latency.p50 }, { label: 'p99', at: d.latency.p99 }], 'ns') : '<p class="note">No packet was run.</p>'}
<h2>Throughput against engines and threads</h2>
${d.scaling ? lineChart('scaling', d.scaling.engines, d.scaling.series.map((s) => ({ name: `${s.threads} thread${s.threads > 1 ? 's' : ''}`, ys: s.mpps })), 'engines', 'Mpps') : ''}${note('scaling')}
<h2>What limits throughput</h2>
${barChart('resources', resources)}${unused.length ? `<p class="note">Not used by this traffic: ${escapeHtml(unused.join(', '))}.</p>` : ''}
${d.hotSpots ? hotSpotSections(d.hotSpots) : note('hotSpots')}
<h2>Actions</h2>
${barChart('actions', d.outcomes)}
<h2>Utilisation</h2>
${d.utilisation.length ? barChart('utilisation', d.utilisation, { max: 1 }) : ''}${note('utilisation')}
</body></html>
`;
}

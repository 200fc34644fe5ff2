/**
 * The report's charts as inline SVG: horizontal bars, a histogram and a line chart.
 * Each chart is an <svg data-chart="…" data-points="n"> whose n data marks carry
 * class "datum" (what the report test counts); every text is escaped.
 */

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const fmt = (x: number): string => {
  if (!Number.isFinite(x)) return '∞';
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 0.01 || a === 0 ? x.toFixed(2) : x.toExponential(1);
};

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Shown after the value (a unit, a share). */
  readonly note?: string;
}

/** Horizontal bars, longest value full width (or `max` when given: utilisations against 1). */
export function barChart(name: string, bars: readonly Bar[], opts: { max?: number; width?: number } = {}): string {
  const width = opts.width ?? 640;
  const labelW = 190;
  const row = 22;
  const h = bars.length * row + 8;
  const max = opts.max ?? Math.max(...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 1e-12);
  const span = width - labelW - 150;
  const rows = bars.map((b, i) => {
    const y = 4 + i * row;
    const w = Number.isFinite(b.value) ? Math.max(0, Math.min(1, b.value / max)) * span : span;
    return `<g class="datum" data-label="${escapeHtml(b.label)}" data-value="${b.value}">`
      + `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${escapeHtml(b.label)}</text>`
      + `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${row - 6}" rx="2"></rect>`
      + `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}">${escapeHtml(`${fmt(b.value)}${b.note ? ` ${b.note}` : ''}`)}</text></g>`;
  });
  return `<svg data-chart="${escapeHtml(name)}" data-points="${bars.length}" viewBox="0 0 ${width} ${h}" width="${width}" height="${h}" role="img">${rows.join('')}</svg>`;
}

export interface Bucket {
  readonly lo: number;
  readonly hi: number;
  readonly n: number;
}

/** A histogram: one bar per bucket (buckets in order, merged to at most `maxBars`), percentile marks. */
export function histogram(name: string, buckets: readonly Bucket[], marks: readonly { label: string; at: number }[], unit: string): string {
  const maxBars = 48;
  const merged: Bucket[] = [];
  const per = Math.max(1, Math.ceil(buckets.length / maxBars));
  for (let i = 0; i < buckets.length; i += per) {
    const g = buckets.slice(i, i + per);
    merged.push({ lo: g[0]!.lo, hi: g.at(-1)!.hi, n: g.reduce((a, b) => a + b.n, 0) });
  }
  const width = 680;
  const height = 220;
  const left = 50;
  const bottom = 40;
  const plotW = width - left - 10;
  const plotH = height - bottom - 10;
  const top = Math.max(...merged.map((b) => b.n), 1);
  const bw = merged.length ? plotW / merged.length : plotW;
  const bars = merged.map((b, i) => {
    const h = (b.n / top) * plotH;
    return `<rect class="datum" data-lo="${b.lo}" data-hi="${b.hi}" data-n="${b.n}" x="${(left + i * bw + 1).toFixed(1)}" y="${(10 + plotH - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}"><title>${escapeHtml(`${fmt(b.lo)}–${fmt(b.hi)} ${unit}: ${b.n}`)}</title></rect>`;
  });
  const xAt = (v: number) => {
    const i = merged.findIndex((b) => v < b.hi);
    const k = i < 0 ? merged.length - 1 : i;
    const b = merged[k];
    const frac = b && b.hi > b.lo ? Math.min(1, Math.max(0, (v - b.lo) / (b.hi - b.lo))) : 0.5;
    return left + (k + frac) * bw;
  };
  const markTags = marks.map((m, j) => {
    const x = xAt(m.at).toFixed(1);
    return `<line class="mark" x1="${x}" x2="${x}" y1="10" y2="${10 + plotH}"></line><text x="${x}" y="${22 + 12 * j}" class="mark-label">${escapeHtml(`${m.label} ${fmt(m.at)} ${unit}`)}</text>`;
  });
  const ticks = merged.length === 0 ? [] : [0, Math.floor(merged.length / 2), merged.length - 1].map((k) =>
    `<text x="${(left + (k + 0.5) * bw).toFixed(1)}" y="${height - 22}" text-anchor="middle">${escapeHtml(fmt(merged[k]!.lo))}</text>`);
  return `<svg data-chart="${escapeHtml(name)}" data-points="${merged.length}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`
    + `<line class="axis" x1="${left}" x2="${width - 10}" y1="${10 + plotH}" y2="${10 + plotH}"></line>`
    + `<text x="${left - 6}" y="16" text-anchor="end">${top}</text><text x="${left - 6}" y="${10 + plotH}" text-anchor="end">0</text>`
    + `${bars.join('')}${markTags.join('')}${ticks.join('')}`
    + `<text x="${left + plotW / 2}" y="${height - 4}" text-anchor="middle">${escapeHtml(unit)} (packets per bucket)</text></svg>`;
}

export interface Series {
  readonly name: string;
  readonly ys: readonly number[];
}

/** Lines over a shared x axis (drawn at equal spacing, labelled with the x values). */
export function lineChart(name: string, xs: readonly number[], series: readonly Series[], xLabel: string, yLabel: string): string {
  const width = 680;
  const height = 260;
  const left = 60;
  const right = 110;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - bottom - 14;
  const top = Math.max(...series.flatMap((s) => s.ys.filter(Number.isFinite)), 1e-12);
  const x = (i: number) => left + (xs.length > 1 ? (i / (xs.length - 1)) * plotW : plotW / 2);
  const y = (v: number) => 14 + plotH - (Math.min(v, top) / top) * plotH;
  let points = 0;
  const lines = series.map((s, k) => {
    const pts = s.ys.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const dots = s.ys.map((v, i) => {
      points++;
      return `<circle class="datum" data-series="${escapeHtml(s.name)}" data-x="${xs[i]}" data-y="${v}" cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3"><title>${escapeHtml(`${s.name}, ${xLabel} ${xs[i]}: ${fmt(v)} ${yLabel}`)}</title></circle>`;
    }).join('');
    const last = s.ys.at(-1) ?? 0;
    return `<g class="series s${k % 6}"><polyline fill="none" points="${pts}"></polyline>${dots}<text x="${(x(s.ys.length - 1) + 6).toFixed(1)}" y="${(y(last) + 4).toFixed(1)}">${escapeHtml(s.name)}</text></g>`;
  });
  const ticks = xs.map((v, i) => `<text x="${x(i).toFixed(1)}" y="${height - 22}" text-anchor="middle">${v}</text>`).join('');
  return `<svg data-chart="${escapeHtml(name)}" data-points="${points}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">`
    + `<line class="axis" x1="${left}" x2="${left + plotW}" y1="${14 + plotH}" y2="${14 + plotH}"></line><line class="axis" x1="${left}" x2="${left}" y1="14" y2="${14 + plotH}"></line>`
    + `<text x="${left - 6}" y="18" text-anchor="end">${fmt(top)}</text><text x="${left - 6}" y="${14 + plotH}" text-anchor="end">0</text>`
    + `${lines.join('')}${ticks}<text x="${left + plotW / 2}" y="${height - 4}" text-anchor="middle">${escapeHtml(xLabel)}</text>`
    + `<text x="12" y="${14 + plotH / 2}" transform="rotate(-90 12 ${14 + plotH / 2})" text-anchor="middle">${escapeHtml(yLabel)}</text></svg>`;
}

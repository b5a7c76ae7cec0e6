// Inline SVG charts for the report page: self-contained strings, no scripts, no external resources.
import type { Histogram } from '../../quality/report.js';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Short, readable axis number. */
export function tick(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toPrecision(3).replace(/\.?0+$/, '')}M`;
  if (a >= 1e4) return `${(x / 1e3).toPrecision(3).replace(/\.?0+$/, '')}k`;
  if (a >= 100 || Number.isInteger(x)) return String(Math.round(x));
  return x.toPrecision(2).replace(/\.?0+$/, '');
}

export const COLORS = { current: '#3b6fd8', reference: '#f08c2e', ok: '#2e9e5b', warn: '#e0a100', error: '#d64545', grid: '#e4e7ec', text: '#475467' };

/** Current shares as bars, reference shares as an outlined step line over them. */
export function histogramSvg(h: Histogram, feature: string, width = 300, height = 150): string {
  const pad = { l: 30, r: 6, t: 8, b: h.kind === 'categorical' ? 38 : 20 };
  const w = width - pad.l - pad.r;
  const ht = height - pad.t - pad.b;
  const n = h.current.length;
  const top = Math.max(...h.current, ...(h.reference ?? []), 1e-9);
  const y = (v: number) => pad.t + ht - (v / top) * ht;
  const bw = w / Math.max(n, 1);
  const parts: string[] = [];
  for (const f of [0.5, 1])
    parts.push(`<line x1="${pad.l}" x2="${pad.l + w}" y1="${y(top * f).toFixed(1)}" y2="${y(top * f).toFixed(1)}" stroke="${COLORS.grid}"/>`);
  parts.push(`<text x="${pad.l - 3}" y="${(y(top) + 4).toFixed(1)}" text-anchor="end" class="ax">${(top * 100).toPrecision(2)}%</text>`);
  h.current.forEach((v, i) => {
    const x = pad.l + i * bw;
    parts.push(
      `<rect x="${(x + 1).toFixed(1)}" y="${y(v).toFixed(1)}" width="${Math.max(bw - 2, 1).toFixed(1)}" height="${(pad.t + ht - y(v)).toFixed(1)}" fill="${COLORS.current}" fill-opacity="0.75"><title>${esc(label(h, i))}: ${(v * 100).toFixed(1)}% now${h.reference ? `, ${(h.reference[i]! * 100).toFixed(1)}% reference` : ''}</title></rect>`,
    );
  });
  if (h.reference) {
    let d = '';
    h.reference.forEach((v, i) => {
      const x0 = pad.l + i * bw;
      d += `${i === 0 ? 'M' : 'L'}${x0.toFixed(1)},${y(v).toFixed(1)} L${(x0 + bw).toFixed(1)},${y(v).toFixed(1)} `;
    });
    parts.push(`<path d="${d.trim()}" fill="none" stroke="${COLORS.reference}" stroke-width="2"/>`);
  }
  parts.push(`<line x1="${pad.l}" x2="${pad.l + w}" y1="${pad.t + ht}" y2="${pad.t + ht}" stroke="#98a2b3"/>`);
  if (h.kind === 'numeric') {
    // Bin centres: whole-number bins (counts) are labelled with their value, not their edge.
    const ticks = [...new Set([0, Math.floor((n - 1) / 2), n - 1])];
    for (const i of ticks)
      parts.push(
        `<text x="${(pad.l + (i + 0.5) * bw).toFixed(1)}" y="${height - 5}" text-anchor="middle" class="ax">${esc(tick((h.edges[i]! + h.edges[i + 1]!) / 2))}</text>`,
      );
  } else {
    const every = Math.ceil(n / 8);
    h.categories.forEach((c, i) => {
      if (i % every !== 0) return;
      const x = pad.l + i * bw + bw / 2;
      parts.push(
        `<text x="${x.toFixed(1)}" y="${pad.t + ht + 10}" text-anchor="end" transform="rotate(-35 ${x.toFixed(1)} ${pad.t + ht + 10})" class="ax">${esc(c.length > 10 ? `${c.slice(0, 9)}…` : c)}</text>`,
      );
    });
  }
  return `<svg class="hist" data-feature="${esc(feature)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="histogram of ${esc(feature)}">${parts.join('')}</svg>`;
}

function label(h: Histogram, i: number): string {
  return h.kind === 'numeric' ? `[${tick(h.edges[i]!)}, ${tick(h.edges[i + 1]!)})` : h.categories[i]!;
}

/** One horizontal bar per feature, coloured by the level it reaches, with the threshold lines. */
export function psiBarsSvg(family: string, rows: readonly { feature: string; psi: number }[], warn: number, error: number, width = 640): string {
  const rowH = 18;
  const pad = { l: 190, r: 50, t: 18, b: 8 };
  const height = pad.t + pad.b + rows.length * rowH;
  // Past PSI 1 every bar says the same thing; capping the scale keeps the thresholds readable.
  const max = Math.max(error * 2.5, Math.min(1, Math.max(...rows.map((r) => r.psi))));
  const w = width - pad.l - pad.r;
  const x = (v: number) => pad.l + (Math.min(v, max) / max) * w;
  const parts: string[] = [];
  for (const [v, c, name, anchor] of [
    [warn, COLORS.warn, 'warn', 'end'],
    [error, COLORS.error, 'error', 'start'],
  ] as const) {
    parts.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${pad.t - 4}" y2="${height - pad.b}" stroke="${c}" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${(x(v) + (anchor === 'end' ? -3 : 3)).toFixed(1)}" y="${pad.t - 7}" text-anchor="${anchor}" class="ax">${name} ${v}</text>`);
  }
  rows.forEach((r, i) => {
    const y0 = pad.t + i * rowH;
    const color = r.psi >= error ? COLORS.error : r.psi >= warn ? COLORS.warn : COLORS.ok;
    parts.push(`<text x="${pad.l - 6}" y="${y0 + 13}" text-anchor="end" class="lbl">${esc(r.feature)}</text>`);
    parts.push(
      `<rect x="${pad.l}" y="${y0 + 3}" width="${Math.max(x(r.psi) - pad.l, 1).toFixed(1)}" height="${rowH - 6}" fill="${color}"><title>${esc(r.feature)}: PSI ${r.psi.toFixed(4)}</title></rect>`,
    );
    parts.push(`<text x="${(x(r.psi) + 4).toFixed(1)}" y="${y0 + 13}" class="ax">${r.psi < 0.001 ? r.psi.toExponential(0) : r.psi.toFixed(3)}</text>`);
  });
  return `<svg class="psi" data-family="${esc(family)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="PSI per feature of ${esc(family)}">${parts.join('')}</svg>`;
}

/** A small line of values over dates (scores, row counts). */
export function sparklineSvg(values: readonly number[], width = 120, height = 28, color = COLORS.current): string {
  if (values.length < 2) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const pts = values.map((v, i) => `${((i / (values.length - 1)) * (width - 4) + 2).toFixed(1)},${(height - 3 - ((v - lo) / span) * (height - 6)).toFixed(1)}`);
  return `<svg class="spark" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="1.5"/><circle cx="${pts.at(-1)!.split(',')[0]}" cy="${pts.at(-1)!.split(',')[1]}" r="2.5" fill="${color}"/></svg>`;
}

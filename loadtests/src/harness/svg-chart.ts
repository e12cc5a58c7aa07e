export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A small self-contained SVG line chart (no dependencies), for reports viewed on GitHub. */
export function lineChart({ title, xLabel, yLabel, series, width = 720, height = 280, marks = [] }: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** Vertical markers, e.g. "node killed". */
  marks?: { x: number; label: string }[];
}): string {
  const pad = { l: 60, r: 20, t: 30, b: 40 };
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...all.map((p) => p[0]));
  const maxY = Math.max(1, ...all.map((p) => p[1])) * 1.1;
  const x = (v: number) => pad.l + (v / maxX) * (width - pad.l - pad.r);
  const y = (v: number) => height - pad.b - (v / maxY) * (height - pad.t - pad.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`,
    ...ticks.map((t) => `<line x1="${pad.l}" x2="${width - pad.r}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${pad.l - 6}" y="${y(t) + 4}" text-anchor="end">${t >= 100 ? Math.round(t) : t.toFixed(1)}</text>`),
    `<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${height - pad.b}" stroke="#333"/>`,
    `<line x1="${pad.l}" x2="${width - pad.r}" y1="${height - pad.b}" y2="${height - pad.b}" stroke="#333"/>`,
    ...[0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${x(f * maxX)}" y="${height - pad.b + 14}" text-anchor="middle">${Math.round(f * maxX)}</text>`),
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(14 ${height / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    ...marks.map((m) => `<line x1="${x(m.x)}" x2="${x(m.x)}" y1="${pad.t}" y2="${height - pad.b}" stroke="#c00" stroke-dasharray="4 3"/><text x="${x(m.x) + 4}" y="${pad.t + 28}" fill="#c00">${esc(m.label)}</text>`),
    ...series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.8" points="${s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"/>`),
    ...series.map((s, i) => `<rect x="${pad.l + 10 + i * 150}" y="${pad.t + 2}" width="10" height="10" fill="${s.color}"/><text x="${pad.l + 24 + i * 150}" y="${pad.t + 11}">${esc(s.name)}</text>`),
    '</svg>',
  ];
  return out.join('\n');
}

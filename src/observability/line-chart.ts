/** One line of a chart: its name in the legend and its (x, y) points. */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** Logarithmic y axis (latency percentiles span decades). */
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

/**
 * A self-contained SVG line chart (axes, ticks, legend), for benchmark sweeps written beside
 * their JSON: a latency curve is read at a glance where a table is not.
 */
export function renderLineChart(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const margin = { left: 70, right: 160, top: 40, bottom: 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const points = options.series.flatMap((s) => s.points);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]).filter((y) => !options.logY || y > 0);
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, 1);
  const logY = options.logY === true;
  const yMin = logY ? 10 ** Math.floor(Math.log10(Math.min(...ys, 1))) : 0;
  const yMax = logY
    ? 10 ** Math.ceil(Math.log10(Math.max(...ys, yMin * 10)))
    : niceCeil(Math.max(...ys, 1));
  const x = (v: number): number => margin.left + ((v - xMin) / (xMax - xMin || 1)) * plotW;
  const y = (v: number): number => {
    const t = logY
      ? (Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
      : v / yMax;
    return margin.top + plotH - t * plotH;
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escape(options.title)}</text>`,
  ];
  const yTicks = logY ? decades(yMin, yMax) : Array.from({ length: 6 }, (_, i) => (yMax * i) / 5);
  for (const t of yTicks) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${y(t) + 4}" text-anchor="end">${formatTick(t)}</text>`,
    );
  }
  const xTicks = Array.from({ length: 6 }, (_, i) => xMin + ((xMax - xMin) * i) / 5);
  for (const t of xTicks)
    parts.push(
      `<text x="${x(t)}" y="${margin.top + plotH + 18}" text-anchor="middle">${formatTick(t)}</text>`,
    );
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(options.yLabel)}</text>`,
  );
  options.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length]!;
    const path = series.points
      .map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`)
      .join(" ");
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [px, py] of series.points)
      parts.push(
        `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${color}"/>`,
      );
    const ly = margin.top + 10 + i * 18;
    parts.push(
      `<line x1="${width - margin.right + 14}" x2="${width - margin.right + 34}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${width - margin.right + 40}" y="${ly + 4}">${escape(series.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let v = min; v <= max * 1.0001; v *= 10) out.push(v);
  return out;
}

function niceCeil(v: number): number {
  const step = 10 ** Math.floor(Math.log10(v));
  return Math.ceil(v / step) * step;
}

function formatTick(v: number): string {
  if (v >= 1000) return `${Math.round(v / 100) / 10}k`;
  return String(Math.round(v * 1000) / 1000);
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// Small inline-SVG charts (no library): horizontal bars, with optional intervals.

import { esc } from "./dom.js";

/** rows: [{label, value, lo?, hi?}] with values in [min, max]; bars grow from 0 (or min if > 0). */
export function barChart(rows, { title = "", min = 0, max = 1, width = 420, color = "#2563eb", format = (v) => v.toFixed(2) } = {}) {
  const rowH = 22, left = 150, right = 50, top = title ? 24 : 6;
  const height = top + rows.length * rowH + 6;
  const x = (v) => left + ((Math.max(min, Math.min(max, v)) - min) / (max - min)) * (width - left - right);
  const zero = x(Math.max(min, 0));
  const axis = min < 0 ? `<line x1="${zero}" x2="${zero}" y1="${top}" y2="${height - 4}" stroke="#9ca3af"/>` : "";
  const bars = rows.map((r, i) => {
    const y = top + i * rowH;
    const ci = r.lo != null && r.hi != null
      ? `<line x1="${x(r.lo)}" x2="${x(r.hi)}" y1="${y + 9}" y2="${y + 9}" stroke="#111827" stroke-width="1.5"/>
         <line x1="${x(r.lo)}" x2="${x(r.lo)}" y1="${y + 5}" y2="${y + 13}" stroke="#111827"/>
         <line x1="${x(r.hi)}" x2="${x(r.hi)}" y1="${y + 5}" y2="${y + 13}" stroke="#111827"/>` : "";
    const a = Math.min(zero, x(r.value)), b = Math.max(zero, x(r.value));
    return `<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(r.label)}</text>
      <rect x="${a}" y="${y + 3}" width="${b - a}" height="12" fill="${color}" rx="2"/>${ci}
      <text x="${Math.max(b, r.hi != null ? x(r.hi) : b) + 4}" y="${y + 13}">${esc(format(r.value))}</text>`;
  }).join("");
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">
    ${title ? `<text x="0" y="14" font-weight="600">${esc(title)}</text>` : ""}${axis}${bars}</svg>`;
}

// Small inline-SVG charts (no library): horizontal bars, with optional intervals.

import { esc } from "./dom.js";

/** rows: [{label, value, lo?, hi?}] with values in [0, max]. */
export function barChart(rows, { title = "", max = 1, width = 420, color = "#2563eb", format = (v) => v.toFixed(2) } = {}) {
  const rowH = 22, left = 130, right = 50, top = title ? 24 : 6;
  const height = top + rows.length * rowH + 6;
  const x = (v) => left + (Math.max(0, Math.min(max, v)) / max) * (width - left - right);
  const bars = rows.map((r, i) => {
    const y = top + i * rowH;
    const ci = r.lo != null && r.hi != null
      ? `<line x1="${x(r.lo)}" x2="${x(r.hi)}" y1="${y + 9}" y2="${y + 9}" stroke="#111827" stroke-width="1.5"/>` : "";
    return `<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(r.label)}</text>
      <rect x="${left}" y="${y + 3}" width="${Math.max(0, x(r.value) - left)}" height="12" fill="${color}" rx="2"/>${ci}
      <text x="${x(r.value) + 4}" y="${y + 13}">${esc(format(r.value))}</text>`;
  }).join("");
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">
    ${title ? `<text x="0" y="14" font-weight="600">${esc(title)}</text>` : ""}${bars}</svg>`;
}

import { maskBounds, maskContains } from "./masks.js";

// Pure helpers over Labelgate native geometries ({type: "box", x1, y1, x2, y2}, polygon points as a
// flat [x0, y0, x1, y1, ...] list, keypoints with visibility): bounds, hit tests, moves, handles.

/** The four corners of a rotated box (degrees clockwise, y down), top-left of the unrotated box first. */
export function corners(g) {
  const a = (g.angle * Math.PI) / 180, c = Math.cos(a), s = Math.sin(a), hw = g.width / 2, hh = g.height / 2;
  return [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]].map(([dx, dy]) => [g.cx + dx * c - dy * s, g.cy + dx * s + dy * c]);
}

/** Where the rotation handle of a rotated box sits: above the middle of its top edge. */
export function rotationHandle(g, offset) {
  const a = (g.angle * Math.PI) / 180, d = g.height / 2 + offset;
  return [g.cx + d * Math.sin(a), g.cy - d * Math.cos(a)];
}

export function bounds(g) {
  switch (g.type) {
    case "mask":
      return maskBounds(g);
    case "box":
      return [g.x1, g.y1, g.x2, g.y2];
    case "rotated_box": {
      const cs = corners(g), xs = cs.map((p) => p[0]), ys = cs.map((p) => p[1]);
      return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    }
    case "polygon":
    case "polyline":
    case "keypoints": {
      let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
      const p = g.points;
      for (let i = 0; i < p.length; i += 2) {
        if (g.type === "keypoints" && g.visibility[i / 2] === 0) continue;
        if (p[i] < x1) x1 = p[i];
        if (p[i] > x2) x2 = p[i];
        if (p[i + 1] < y1) y1 = p[i + 1];
        if (p[i + 1] > y2) y2 = p[i + 1];
      }
      return [x1, y1, x2, y2];
    }
    default:
      return null;
  }
}

function insidePolygon(p, x, y) {
  let inside = false;
  for (let i = 0, j = p.length - 2; i < p.length; j = i, i += 2) {
    const xi = p[i], yi = p[i + 1], xj = p[j], yj = p[j + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Does geometry `g` contain image point (x, y)? `tol` is in image pixels. */
export function contains(g, x, y, tol) {
  if (g.type === "mask") return maskContains(g, x, y);
  if (g.type === "box") return x >= g.x1 - tol && x <= g.x2 + tol && y >= g.y1 - tol && y <= g.y2 + tol;
  if (g.type === "polygon") return insidePolygon(g.points, x, y) || vertexAt(g, x, y, tol) >= 0;
  if (g.type === "rotated_box") {
    const a = (-g.angle * Math.PI) / 180, dx = x - g.cx, dy = y - g.cy;
    const lx = dx * Math.cos(a) - dy * Math.sin(a), ly = dx * Math.sin(a) + dy * Math.cos(a);
    return Math.abs(lx) <= g.width / 2 + tol && Math.abs(ly) <= g.height / 2 + tol;
  }
  if (g.type === "keypoints") return vertexAt(g, x, y, tol * 2) >= 0;
  return false;
}

export function area(g) {
  if (g.type === "rotated_box") return g.width * g.height;
  if (g.type === "mask") return g.counts.reduce((a, n, i) => (i % 2 ? a + n : a), 0);
  const b = bounds(g);
  return b ? Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]) : Infinity;
}

/** Index of the vertex of a polygon / keypoints within `tol` of (x, y), or -1. */
export function vertexAt(g, x, y, tol) {
  if (!g.points) return -1;
  const p = g.points;
  for (let i = 0; i < p.length; i += 2) {
    if (g.type === "keypoints" && g.visibility[i / 2] === 0) continue;
    if (Math.abs(p[i] - x) <= tol && Math.abs(p[i + 1] - y) <= tol) return i / 2;
  }
  return -1;
}

/** The polygon edge nearest (x, y) within `tol`: the index of its first vertex, or -1. */
export function edgeAt(g, x, y, tol) {
  if (g.type !== "polygon") return -1;
  const p = g.points, n = p.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    const ax = p[2 * i], ay = p[2 * i + 1], bx = p[2 * j], by = p[2 * j + 1];
    const dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy || 1;
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2));
    const px = ax + t * dx, py = ay + t * dy;
    if ((px - x) ** 2 + (py - y) ** 2 <= tol * tol) return i;
  }
  return -1;
}

/** Box corner/edge handles: [name, x, y]. */
export function boxHandles(g) {
  const mx = (g.x1 + g.x2) / 2, my = (g.y1 + g.y2) / 2;
  return [["nw", g.x1, g.y1], ["n", mx, g.y1], ["ne", g.x2, g.y1], ["e", g.x2, my],
          ["se", g.x2, g.y2], ["s", mx, g.y2], ["sw", g.x1, g.y2], ["w", g.x1, my]];
}

export function handleAt(g, x, y, tol) {
  if (g.type === "rotated_box") {
    const [rx, ry] = rotationHandle(g, 4 * tol);
    if (Math.abs(rx - x) <= tol && Math.abs(ry - y) <= tol) return "rotate";
    const k = corners(g).findIndex(([cx, cy]) => Math.abs(cx - x) <= tol && Math.abs(cy - y) <= tol);
    return k >= 0 ? `corner${k}` : null;
  }
  if (g.type !== "box") return null;
  for (const [name, hx, hy] of boxHandles(g)) if (Math.abs(hx - x) <= tol && Math.abs(hy - y) <= tol) return name;
  return null;
}

/** A copy of box `g` with handle `h` dragged to (x, y), normalised so x1 <= x2, y1 <= y2. */
export function resizeBox(g, h, x, y) {
  let { x1, y1, x2, y2 } = g;
  if (h.includes("w")) x1 = x;
  if (h.includes("e")) x2 = x;
  if (h.includes("n")) y1 = y;
  if (h.includes("s")) y2 = y;
  return normBox(x1, y1, x2, y2);
}

export function normBox(ax, ay, bx, by) {
  return { type: "box", x1: Math.min(ax, bx), y1: Math.min(ay, by), x2: Math.max(ax, bx), y2: Math.max(ay, by) };
}

/** Rotated box `g` with corner `k` dragged to (x, y): the opposite corner stays, the angle too. */
export function resizeRotated(g, k, x, y) {
  const [ox, oy] = corners(g)[(k + 2) % 4];
  const a = (-g.angle * Math.PI) / 180, dx = x - ox, dy = y - oy;
  const lx = dx * Math.cos(a) - dy * Math.sin(a), ly = dx * Math.sin(a) + dy * Math.cos(a);
  return { ...g, cx: (ox + x) / 2, cy: (oy + y) / 2, width: Math.abs(lx), height: Math.abs(ly) };
}

/** Rotated box `g` turned so its top points at (x, y). */
export function rotateTowards(g, x, y) {
  let angle = (Math.atan2(y - g.cy, x - g.cx) * 180) / Math.PI + 90;
  angle = ((angle % 360) + 360) % 360;
  return { ...g, angle: angle > 180 ? angle - 360 : angle };
}

export function translate(g, dx, dy) {
  if (g.type === "mask") return g; // masks are repainted, not moved
  if (g.type === "rotated_box") return { ...g, cx: g.cx + dx, cy: g.cy + dy };
  if (g.type === "box") return { ...g, x1: g.x1 + dx, y1: g.y1 + dy, x2: g.x2 + dx, y2: g.y2 + dy };
  if (g.points) {
    const points = g.points.map((v, i) => (i % 2 ? v + dy : v + dx));
    return { ...g, points, ...(g.holes ? { holes: g.holes.map((h) => h.map((v, i) => (i % 2 ? v + dy : v + dx))) } : {}) };
  }
  return g;
}

export function moveVertex(g, k, x, y) {
  const points = g.points.slice();
  points[2 * k] = x;
  points[2 * k + 1] = y;
  return { ...g, points };
}

export function deleteVertex(g, k) {
  if (g.type === "keypoints") {
    const visibility = g.visibility.slice();
    visibility[k] = 0;
    return { ...g, visibility };
  }
  const points = g.points.slice();
  points.splice(2 * k, 2);
  return { ...g, points };
}

export function insertVertex(g, afterK, x, y) {
  const points = g.points.slice();
  points.splice(2 * (afterK + 1), 0, x, y);
  return { ...g, points };
}

/** Round coordinates to 1/100 px so drafts stay small and stable. */
export function tidy(g) {
  const r = (v) => Math.round(v * 100) / 100;
  if (g.type === "box") return { type: "box", x1: r(g.x1), y1: r(g.y1), x2: r(g.x2), y2: r(g.y2) };
  if (g.type === "rotated_box") return { type: "rotated_box", cx: r(g.cx), cy: r(g.cy), width: r(g.width), height: r(g.height), angle: r(g.angle) };
  if (g.points) return { ...g, points: g.points.map(r) };
  return g;
}

/** Clamp a box inside the image. */
export function clampBox(g, w, h) {
  if (g.type !== "box" || !w || !h) return g;
  const c = (v, m) => Math.max(0, Math.min(m, v));
  return { type: "box", x1: c(g.x1, w), y1: c(g.y1, h), x2: c(g.x2, w), y2: c(g.y2, h) };
}

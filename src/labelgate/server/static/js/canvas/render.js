// Draws an image and its regions on one 2D canvas. Regions are batched into one path per
// (colour, style), so thousands of boxes cost a handful of stroke() calls per frame.

import { bounds, boxHandles, corners, rotationHandle } from "./geometry.js";
import { overlay } from "./masks.js";

const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
                 "#fabed4", "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075"];

export function colorOf(schema, label) {
  const classes = schema.classes || [];
  const i = classes.findIndex((c) => c.name === label);
  if (i >= 0 && classes[i].color) return classes[i].color;
  return PALETTE[(i >= 0 ? i : 0) % PALETTE.length];
}

// Shapes are drawn in device pixels with coordinates snapped to the pixel grid: a software
// rasteriser (Chromium without a GPU) strokes thousands of snapped rectangles ~25x faster than
// the same rectangles under a scaling transform with fractional coordinates.
function mapper(view, dpr, lw) {
  const s = view.scale * dpr, tx = view.tx * dpr, ty = view.ty * dpr, o = lw % 2 ? 0.5 : 0;
  return { x: (x) => Math.round(x * s + tx) + o, y: (y) => Math.round(y * s + ty) + o, s, tx, ty };
}

function addShape(path, g, m) {
  if (g.type === "box") {
    const x1 = m.x(g.x1), y1 = m.y(g.y1);
    path.rect(x1, y1, m.x(g.x2) - x1, m.y(g.y2) - y1);
  } else if (g.type === "rotated_box") {
    const cs = corners(g);
    path.moveTo(m.x(cs[0][0]), m.y(cs[0][1]));
    for (let i = 1; i < 4; i++) path.lineTo(m.x(cs[i][0]), m.y(cs[i][1]));
    path.closePath();
    // a tick on the top edge shows which way is up
    const [tx, ty] = rotationHandle(g, 0);
    path.moveTo(m.x(tx), m.y(ty));
    path.lineTo(m.x(g.cx), m.y(g.cy));
  } else if (g.type === "polygon" || g.type === "polyline") {
    const p = g.points;
    if (p.length < 2) return;
    path.moveTo(m.x(p[0]), m.y(p[1]));
    for (let i = 2; i < p.length; i += 2) path.lineTo(m.x(p[i]), m.y(p[i + 1]));
    if (g.type === "polygon") path.closePath();
  }
}

function drawKeypoints(ctx, g, edges, color, r, m) {
  const p = g.points, v = g.visibility;
  ctx.strokeStyle = color;
  ctx.beginPath();
  for (const [a, b] of edges || []) {
    if (!v[a] || !v[b]) continue;
    ctx.moveTo(m.x(p[2 * a]), m.y(p[2 * a + 1]));
    ctx.lineTo(m.x(p[2 * b]), m.y(p[2 * b + 1]));
  }
  ctx.stroke();
  ctx.fillStyle = color;
  ctx.beginPath();
  for (let i = 0; i < v.length; i++) {
    if (!v[i]) continue;
    const x = m.x(p[2 * i]), y = m.y(p[2 * i + 1]);
    ctx.moveTo(x + r, y);
    ctx.arc(x, y, r, 0, Math.PI * 2);
  }
  ctx.fill();
}

/**
 * Render one frame. `scene` = {image, width, height, regions, predictions, selected, hidden,
 * schema, draft (shape being drawn), vertex (selected vertex), skeletons: {label: edges}}.
 */
export const BACKGROUND = "#1d1f24";

export function render(canvas, view, scene, background = BACKGROUND) {
  const ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.tx, dpr * view.ty);
  if (scene.image) ctx.drawImage(scene.image, 0, 0, scene.width, scene.height);
  ctx.imageSmoothingEnabled = false;
  for (const r of scene.regions) {
    if (r.geometry && r.geometry.type === "mask") ctx.drawImage(overlay(r.geometry, colorOf(scene.schema, r.label)), 0, 0);
  }
  if (scene.paint) {
    ctx.globalAlpha = 0.5;
    ctx.drawImage(scene.paint, 0, 0);
    ctx.globalAlpha = 1;
  }
  ctx.imageSmoothingEnabled = true;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  const lw = Math.max(1, Math.round(1.5 * dpr));
  const m = mapper(view, dpr, lw);
  ctx.lineWidth = lw;
  const dash = [6 * dpr, 4 * dpr];

  const groups = new Map();
  const add = (r, dashed) => {
    if (!r.geometry || r.geometry.type === "classification" || r.geometry.type === "mask") return;
    if (r.geometry.type === "keypoints") {
      drawKeypoints(ctx, r.geometry, scene.skeletons?.[r.label], colorOf(scene.schema, r.label), 3 * dpr, m);
      return;
    }
    const key = colorOf(scene.schema, r.label) + (dashed ? "|d" : "");
    let path = groups.get(key);
    if (!path) groups.set(key, (path = new Path2D()));
    addShape(path, r.geometry, m);
  };
  scene.regions.forEach((r, i) => { if (i !== scene.selected) add(r, false); });
  (scene.predictions || []).forEach((r) => add(r, true));
  for (const [key, path] of groups) {
    const [color, dashed] = key.split("|");
    ctx.strokeStyle = color;
    ctx.setLineDash(dashed ? dash : []);
    ctx.stroke(path);
  }
  ctx.setLineDash([]);

  const sel = scene.selectedRegion;
  if (sel && sel.geometry && sel.geometry.type === "mask") {
    const b = bounds(sel.geometry);
    if (b) {
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.strokeStyle = colorOf(scene.schema, sel.label);
      ctx.lineWidth = lw;
      ctx.strokeRect(m.x(b[0]), m.y(b[1]), m.x(b[2]) - m.x(b[0]), m.y(b[3]) - m.y(b[1]));
      ctx.setLineDash([]);
    }
  } else if (sel && sel.geometry && sel.geometry.type !== "classification") {
    const color = colorOf(scene.schema, sel.label);
    const g = sel.geometry;
    if (g.type === "keypoints") {
      drawKeypoints(ctx, g, scene.skeletons?.[sel.label], color, 4.5 * dpr, m);
    } else {
      const path = new Path2D();
      addShape(path, g, m);
      ctx.fillStyle = color + "33";
      ctx.fill(path);
      ctx.lineWidth = lw + 1;
      ctx.strokeStyle = color;
      if (scene.selectedIsPrediction) ctx.setLineDash(dash);
      ctx.stroke(path);
      ctx.setLineDash([]);
    }
    const hs = 4 * dpr;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1;
    const pts = g.type === "box" ? boxHandles(g).map(([, x, y]) => [x, y])
      : g.type === "rotated_box" ? [...corners(g), rotationHandle(g, 24 / view.scale)]
      : (g.points ? Array.from({ length: g.points.length / 2 }, (_, i) => [g.points[2 * i], g.points[2 * i + 1]]) : []);
    pts.forEach(([x, y], i) => {
      if (g.type === "keypoints" && !g.visibility[i]) return;
      const px = m.x(x), py = m.y(y);
      ctx.fillStyle = i === scene.vertex ? color : "#fff";
      ctx.fillRect(px - hs, py - hs, 2 * hs, 2 * hs);
      ctx.strokeRect(px - hs, py - hs, 2 * hs, 2 * hs);
    });
  }

  if (scene.pins) {
    const r = 9 * dpr;
    ctx.font = `${11 * dpr}px sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (const pin of scene.pins) {
      ctx.fillStyle = "#ff9f1c";
      ctx.beginPath();
      ctx.arc(m.x(pin.x), m.y(pin.y), r, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = "#000";
      ctx.fillText(String(pin.n), m.x(pin.x), m.y(pin.y));
    }
  }

  if (scene.cursor) {
    const x = m.x(scene.cursor.x), y = m.y(scene.cursor.y), r = 10 * dpr;
    ctx.lineWidth = 1;
    ctx.strokeStyle = "#fff";
    ctx.beginPath();
    ctx.moveTo(x - r, y); ctx.lineTo(x + r, y); ctx.moveTo(x, y - r); ctx.lineTo(x, y + r);
    ctx.stroke();
  }

  if (scene.draft) {
    ctx.lineWidth = 2 * dpr;
    ctx.strokeStyle = colorOf(scene.schema, scene.draft.label);
    ctx.setLineDash([4 * dpr, 3 * dpr]);
    const path = new Path2D();
    addShape(path, scene.draft.geometry.type === "polygon" ? { ...scene.draft.geometry, type: "polyline" } : scene.draft.geometry, m);
    ctx.stroke(path);
    ctx.setLineDash([]);
    if (scene.draft.geometry.points) {
      ctx.fillStyle = ctx.strokeStyle;
      const p = scene.draft.geometry.points, r = 3 * dpr;
      for (let i = 0; i < p.length; i += 2) ctx.fillRect(m.x(p[i]) - r, m.y(p[i + 1]) - r, 2 * r, 2 * r);
    }
  }
}

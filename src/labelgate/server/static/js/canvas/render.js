// Draws an image and its regions on one 2D canvas. Regions are batched into one path per
// (colour, style), so thousands of boxes cost a handful of stroke() calls per frame.

import { boxHandles } from "./geometry.js";

const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
                 "#fabed4", "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075"];

export function colorOf(schema, label) {
  const classes = schema.classes || [];
  const i = classes.findIndex((c) => c.name === label);
  if (i >= 0 && classes[i].color) return classes[i].color;
  return PALETTE[(i >= 0 ? i : 0) % PALETTE.length];
}

function addShape(path, g) {
  if (g.type === "box") {
    path.rect(g.x1, g.y1, g.x2 - g.x1, g.y2 - g.y1);
  } else if (g.type === "polygon" || g.type === "polyline") {
    const p = g.points;
    if (p.length < 2) return;
    path.moveTo(p[0], p[1]);
    for (let i = 2; i < p.length; i += 2) path.lineTo(p[i], p[i + 1]);
    if (g.type === "polygon") path.closePath();
  }
}

function drawKeypoints(ctx, g, edges, color, r) {
  const p = g.points, v = g.visibility;
  ctx.strokeStyle = color;
  ctx.beginPath();
  for (const [a, b] of edges || []) {
    if (!v[a] || !v[b]) continue;
    ctx.moveTo(p[2 * a], p[2 * a + 1]);
    ctx.lineTo(p[2 * b], p[2 * b + 1]);
  }
  ctx.stroke();
  ctx.fillStyle = color;
  ctx.beginPath();
  for (let i = 0; i < v.length; i++) {
    if (!v[i]) continue;
    ctx.moveTo(p[2 * i] + r, p[2 * i + 1]);
    ctx.arc(p[2 * i], p[2 * i + 1], r, 0, Math.PI * 2);
  }
  ctx.fill();
}

/**
 * Render one frame. `scene` = {image, width, height, regions, predictions, selected, hidden,
 * schema, draft (shape being drawn), vertex (selected vertex), skeletons: {label: edges}}.
 */
export function render(canvas, view, scene) {
  const ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#1d1f24";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.tx, dpr * view.ty);
  if (scene.image) ctx.drawImage(scene.image, 0, 0, scene.width, scene.height);
  const lw = 1.5 / view.scale;
  ctx.lineWidth = lw;

  const groups = new Map();
  const add = (r, dashed, idx) => {
    if (!r.geometry || r.geometry.type === "classification") return;
    if (r.geometry.type === "keypoints") {
      drawKeypoints(ctx, r.geometry, scene.skeletons?.[r.label], colorOf(scene.schema, r.label), 3 / view.scale);
      return;
    }
    const key = colorOf(scene.schema, r.label) + (dashed ? "|d" : "");
    let path = groups.get(key);
    if (!path) groups.set(key, (path = new Path2D()));
    addShape(path, r.geometry, idx);
  };
  scene.regions.forEach((r, i) => { if (i !== scene.selected) add(r, false, i); });
  (scene.predictions || []).forEach((r) => add(r, true));
  for (const [key, path] of groups) {
    const [color, dashed] = key.split("|");
    ctx.strokeStyle = color;
    ctx.setLineDash(dashed ? [6 / view.scale, 4 / view.scale] : []);
    ctx.stroke(path);
  }
  ctx.setLineDash([]);

  const sel = scene.selectedRegion;
  if (sel && sel.geometry && sel.geometry.type !== "classification") {
    const color = colorOf(scene.schema, sel.label);
    const g = sel.geometry;
    if (g.type === "keypoints") {
      drawKeypoints(ctx, g, scene.skeletons?.[sel.label], color, 4.5 / view.scale);
    } else {
      const path = new Path2D();
      addShape(path, g);
      ctx.fillStyle = color + "33";
      ctx.fill(path);
      ctx.lineWidth = 2.5 / view.scale;
      ctx.strokeStyle = color;
      if (scene.selectedIsPrediction) ctx.setLineDash([6 / view.scale, 4 / view.scale]);
      ctx.stroke(path);
      ctx.setLineDash([]);
    }
    const hs = 4 / view.scale;
    ctx.fillStyle = "#fff";
    ctx.strokeStyle = color;
    ctx.lineWidth = 1 / view.scale;
    const pts = g.type === "box" ? boxHandles(g).map(([, x, y]) => [x, y])
      : (g.points ? Array.from({ length: g.points.length / 2 }, (_, i) => [g.points[2 * i], g.points[2 * i + 1]]) : []);
    pts.forEach(([x, y], i) => {
      ctx.fillStyle = i === scene.vertex ? color : "#fff";
      ctx.fillRect(x - hs, y - hs, 2 * hs, 2 * hs);
      ctx.strokeRect(x - hs, y - hs, 2 * hs, 2 * hs);
    });
  }

  if (scene.pins) {
    const r = 9 / view.scale;
    ctx.font = `${11 / view.scale}px sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (const pin of scene.pins) {
      ctx.fillStyle = "#ff9f1c";
      ctx.beginPath();
      ctx.arc(pin.x, pin.y, r, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = "#000";
      ctx.fillText(String(pin.n), pin.x, pin.y);
    }
  }

  if (scene.draft) {
    ctx.lineWidth = 2 / view.scale;
    ctx.strokeStyle = colorOf(scene.schema, scene.draft.label);
    ctx.setLineDash([4 / view.scale, 3 / view.scale]);
    const path = new Path2D();
    addShape(path, scene.draft.geometry.type === "polygon" ? { ...scene.draft.geometry, type: "polyline" } : scene.draft.geometry);
    ctx.stroke(path);
    ctx.setLineDash([]);
    if (scene.draft.geometry.points) {
      ctx.fillStyle = ctx.strokeStyle;
      const p = scene.draft.geometry.points, r = 3 / view.scale;
      for (let i = 0; i < p.length; i += 2) ctx.fillRect(p[i] - r, p[i + 1] - r, 2 * r, 2 * r);
    }
  }
}

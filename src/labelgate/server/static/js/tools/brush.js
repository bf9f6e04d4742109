// Brush and eraser masks: paint with the current label (a new mask region, or the selected mask
// if it has that label); the eraser removes paint from the selected mask. < and > change the size.

import { decode, encode } from "../canvas/masks.js";
import { SelectTool } from "./select.js";

export class BrushTool extends SelectTool {
  constructor(erase = false) {
    super();
    this.erase = erase;
    this.radius = 12; // image pixels
  }

  down(ed, p) {
    const sel = ed.selected >= 0 ? ed.regions[ed.selected] : null;
    const target = sel && sel.geometry.type === "mask" && (this.erase || sel.label === ed.label) ? ed.selected : -1;
    if (this.erase && target < 0) return;
    const c = document.createElement("canvas");
    c.width = ed.width;
    c.height = ed.height;
    const ctx = c.getContext("2d");
    if (target >= 0) {
      const m = decode(ed.regions[target].geometry);
      const img = ctx.createImageData(ed.width, ed.height);
      for (let i = 0; i < m.length; i++) if (m[i]) img.data[4 * i + 3] = 255;
      ctx.putImageData(img, 0, 0);
    }
    ctx.globalCompositeOperation = this.erase ? "destination-out" : "source-over";
    ctx.fillStyle = "#000";
    this.paint = { canvas: c, ctx, target, last: p };
    this.dab(ed, p);
  }

  dab(ed, p) {
    const { ctx, last } = this.paint;
    const steps = Math.max(1, Math.ceil(Math.hypot(p.x - last.x, p.y - last.y) / (this.radius / 3)));
    for (let i = 1; i <= steps; i++) {
      const x = last.x + ((p.x - last.x) * i) / steps, y = last.y + ((p.y - last.y) * i) / steps;
      ctx.beginPath();
      ctx.arc(x, y, this.radius, 0, Math.PI * 2);
      ctx.fill();
    }
    this.paint.last = p;
    ed.paintLayer = this.paint.canvas;
    ed.requestDraw();
  }

  move(ed, p) {
    if (this.paint) this.dab(ed, p);
  }

  up(ed) {
    const paint = this.paint;
    this.paint = null;
    ed.paintLayer = null;
    if (!paint) return;
    const data = paint.ctx.getImageData(0, 0, ed.width, ed.height).data;
    const g = encode(ed.width, ed.height, (i) => data[4 * i + 3] >= 128);
    const empty = g.counts.length === 1;
    if (paint.target >= 0) {
      if (empty) ed.commit(ed.regions.filter((_, i) => i !== paint.target), -1);
      else ed.commit(ed.regions.map((r, i) => (i === paint.target ? { ...r, geometry: g } : r)), paint.target);
    } else if (!empty) {
      ed.commit([...ed.regions, { id: ed.nextId(), label: ed.label, geometry: g }], ed.regions.length);
    } else {
      ed.requestDraw();
    }
  }
}

export class EraserTool extends BrushTool {
  constructor() {
    super(true);
  }
}

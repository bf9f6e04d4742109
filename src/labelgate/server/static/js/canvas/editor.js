// The image editor: regions, predictions, selection, undo/redo, zoom/pan, and pointer events
// dispatched to the current tool. Regions are immutable objects replaced on every edit, so an undo
// snapshot is a shallow copy of the array.

import { area, contains, deleteVertex, tidy, translate } from "./geometry.js";
import { BACKGROUND, render } from "./render.js";
import { relabel } from "../schema.js";
import { Viewport } from "./viewport.js";
import { BoxTool } from "../tools/box.js";
import { KeypointsTool } from "../tools/keypoints.js";
import { PolygonTool } from "../tools/polygon.js";
import { RotatedBoxTool } from "../tools/rotated.js";
import { BrushTool, EraserTool } from "../tools/brush.js";
import { SelectTool } from "../tools/select.js";

const LAYER_MARGIN = 24; // CSS px around the image in the cached layer (pins, handles, vertices outside)

export const TOOLS = { box: BoxTool, rotated: RotatedBoxTool, polygon: PolygonTool, brush: BrushTool, eraser: EraserTool, keypoints: KeypointsTool, select: SelectTool };

export class Editor {
  constructor(canvas, { schema, width, height, image, readOnly = false, onChange = () => {}, onSelect = () => {} }) {
    this.canvas = canvas;
    this.schema = schema;
    this.width = width;
    this.height = height;
    this.image = image;
    this.readOnly = readOnly;
    this.onChange = onChange;
    this.onSelect = onSelect;
    this.view = new Viewport();
    this.regions = [];
    this.predictions = [];
    this.selected = -1;
    this.selPred = -1;
    this.vertex = -1;
    this.label = (schema.classes && schema.classes[0] && schema.classes[0].name) || "";
    this.undoStack = [];
    this.redoStack = [];
    this.draft = null;
    this.tools = Object.fromEntries(Object.entries(TOOLS).map(([k, T]) => [k, new T()]));
    this.toolName = readOnly ? "select" : "box";
    this.skeletons = {};
    for (const c of schema.classes || []) if (c.skeleton) this.skeletons[c.name] = c.skeleton.edges;
    this._frame = 0;
    this._space = false;
    this._pan = null;
    this._listen();
    this.resize();
  }

  get tool() { return this.tools[this.toolName]; }

  setTool(name) {
    if (!this.tools[name] || (this.readOnly && name !== "select")) return;
    this.draft = null;
    this.toolName = name;
    this.canvas.dataset.tool = name;
    this.requestDraw();
  }

  // --- state ----------------------------------------------------------------
  setRegions(regions, predictions = []) {
    this.regions = regions.slice();
    this.predictions = predictions.slice();
    this.selected = -1;
    this.selPred = -1;
    this.requestDraw();
  }

  nextId() {
    let m = 0;
    for (const r of this.regions) if (typeof r.id === "number" && r.id > m) m = r.id;
    return m + 1;
  }

  /** Record the current state for undo, then replace the regions. */
  commit(regions, select = this.selected) {
    this.undoStack.push([this.regions, this.predictions]);
    if (this.undoStack.length > 500) this.undoStack.shift();
    this.redoStack = [];
    this.regions = regions;
    this.select(select);
    this.onChange();
    this.requestDraw();
  }

  /** Live edit during a drag: replace one region without an undo step (see beginDrag). */
  replaceLive(index, region) {
    this.regions = this.regions.slice();
    this.regions[index] = region;
    this.requestDraw();
  }

  beginDrag() { this._before = [this.regions, this.predictions]; }

  endDrag() {
    if (this._before && this._before[0] !== this.regions) {
      this.undoStack.push(this._before);
      this.redoStack = [];
      this.onChange();
    }
    this._before = null;
  }

  undo() {
    const prev = this.undoStack.pop();
    if (!prev) return;
    this.redoStack.push([this.regions, this.predictions]);
    [this.regions, this.predictions] = prev;
    this.select(Math.min(this.selected, this.regions.length - 1));
    this.onChange();
    this.requestDraw();
  }

  redo() {
    const next = this.redoStack.pop();
    if (!next) return;
    this.undoStack.push([this.regions, this.predictions]);
    [this.regions, this.predictions] = next;
    this.select(Math.min(this.selected, this.regions.length - 1));
    this.onChange();
    this.requestDraw();
  }

  select(index, pred = -1) {
    this.selected = index;
    this.selPred = pred;
    this.vertex = -1;
    this.onSelect(this.selectedRegion());
    this.requestDraw();
  }

  selectedRegion() {
    if (this.selected >= 0) return this.regions[this.selected];
    if (this.selPred >= 0) return this.predictions[this.selPred];
    return null;
  }

  addRegion(geometry, label = this.label) {
    const r = { id: this.nextId(), label, geometry };
    // Not selected afterwards, so the next label hotkey picks the label for the next region.
    this.commit([...this.regions, r], -1);
    return r;
  }

  deleteSelected() {
    if (this.selected < 0) return;
    const rs = this.regions.slice();
    rs.splice(this.selected, 1);
    this.commit(rs, -1);
  }

  relabelSelected(label) {
    if (this.selected < 0) return;
    const rs = this.regions.slice();
    rs[this.selected] = relabel(this.schema, rs[this.selected], label);
    this.commit(rs);
  }

  setAttributes(attributes) {
    if (this.selected < 0) return;
    const rs = this.regions.slice();
    const r = { ...rs[this.selected], attributes };
    if (!Object.keys(attributes).length) delete r.attributes;
    rs[this.selected] = r;
    this.commit(rs);
  }

  translateSelected(dx, dy) {
    if (this.selected < 0 || this.readOnly) return;
    const r = this.regions[this.selected];
    let g = translate(r.geometry, dx, dy);
    if (g.type === "box") {
      // keep the box's size when it meets the image edge
      const ox = Math.min(0, this.width - g.x2) + Math.max(0, -g.x1), oy = Math.min(0, this.height - g.y2) + Math.max(0, -g.y1);
      g = translate(g, ox, oy);
    }
    this.commit(this.regions.map((x, i) => (i === this.selected ? { ...x, geometry: tidy(g) } : x)));
  }

  /** Turn the selected rotated box by `deg` degrees clockwise. */
  rotateSelected(deg) {
    const r = this.regions[this.selected];
    if (!r || this.readOnly || r.geometry.type !== "rotated_box") return;
    let angle = r.geometry.angle + deg;
    angle = ((((angle + 180) % 360) + 360) % 360) - 180;
    this.commit(this.regions.map((x, i) => (i === this.selected ? { ...x, geometry: tidy({ ...x.geometry, angle }) } : x)));
  }

  deleteVertex() {
    const r = this.regions[this.selected];
    if (!r || this.vertex < 0) return;
    const g = r.geometry;
    const left = g.type === "keypoints" ? g.visibility.filter(Boolean).length : g.points.length / 2;
    if (left <= (g.type === "polygon" ? 3 : 1)) return this.deleteSelected();
    this.commit(this.regions.map((x, i) => (i === this.selected ? { ...x, geometry: deleteVertex(g, this.vertex) } : x)));
  }

  /** Add a whole-item classification with `label`, or remove it if present. */
  toggleClassification(label) {
    if (this.readOnly || !label) return;
    const k = this.regions.findIndex((r) => r.geometry.type === "classification" && r.label === label);
    if (k >= 0) {
      this.commit(this.regions.filter((_, i) => i !== k), -1);
    } else {
      this.commit([...this.regions, { id: this.nextId(), label, geometry: { type: "classification" } }], this.selected);
    }
  }

  cycle(step) {
    const n = this.regions.length;
    if (!n) return;
    this.select(((this.selected < 0 ? (step > 0 ? -1 : 0) : this.selected) + step + n) % n);
  }

  /** Accept prediction `k` (or all when k < 0) as the annotator's own regions, in one undo step. */
  acceptPrediction(k = -1, geometry = null) {
    const take = k >= 0 ? [k] : this.predictions.map((_, i) => i);
    if (!take.length) return -1;
    let id = this.nextId();
    const added = take.map((i) => {
      const p = this.predictions[i];
      const r = { id: id++, label: p.label, geometry: geometry && take.length === 1 ? geometry : p.geometry };
      if (p.attributes && Object.keys(p.attributes).length) r.attributes = p.attributes;
      return r;
    });
    const before = [this.regions, this.predictions];
    this.predictions = this.predictions.filter((_, i) => !take.includes(i));
    this.undoStack.push(before);
    this.redoStack = [];
    this.regions = [...this.regions, ...added];
    this.select(this.regions.length - 1);
    this.onChange();
    this.requestDraw();
    return this.regions.length - 1;
  }

  /** The topmost (smallest) region or prediction at image point (x, y). */
  hit(x, y) {
    const tol = 4 / this.view.scale;
    let best = null, bestArea = Infinity;
    const scan = (list, kind) => {
      for (let i = 0; i < list.length; i++) {
        const g = list[i].geometry;
        if (!g || !contains(g, x, y, tol)) continue;
        const a = area(g);
        if (a <= bestArea) { best = { kind, index: i }; bestArea = a; }
      }
    };
    scan(this.predictions, "pred");
    scan(this.regions, "region");
    return best;
  }

  // --- keyboard-only drawing --------------------------------------------------
  /** Move the keyboard cursor by (dx, dy) screen pixels (it starts at the centre of the view). */
  moveCursor(dx, dy) {
    if (!this.kcursor) {
      const [x, y] = this.view.toImage(this.cssW / 2, this.cssH / 2);
      this.kcursor = { x, y };
    }
    const c = (v, m) => Math.max(0, Math.min(m, v));
    this.kcursor = { x: c(this.kcursor.x + dx / this.view.scale, this.width), y: c(this.kcursor.y + dy / this.view.scale, this.height) };
    if (this.draft) { // the shape being drawn follows the cursor, as it follows the pointer
      const [sx, sy] = this.view.toScreen(this.kcursor.x, this.kcursor.y);
      this.tool.move(this, { ...this.kcursor, sx, sy }, {});
    }
    this.requestDraw();
  }

  /** Press at the keyboard cursor with the current tool: boxes take two presses (corners), polygons
   * one per vertex (Enter closes), keypoints one per point. */
  placeAtCursor() {
    if (this.readOnly) return;
    if (!this.kcursor) this.moveCursor(0, 0);
    const [sx, sy] = this.view.toScreen(this.kcursor.x, this.kcursor.y);
    const p = { x: this.kcursor.x, y: this.kcursor.y, sx, sy };
    const ev = { altKey: false };
    if (this.toolName === "box" || this.toolName === "rotated") {
      if (!this.tool.start) this.tool.down(this, p, ev);
      else {
        this.tool.move(this, p, ev);
        this.tool.up(this, p, ev);
      }
    } else if (this.toolName === "polygon" || this.toolName === "keypoints") {
      this.tool.down(this, p, ev);
      this.tool.move(this, p, ev);
    }
  }

  /** Review comments pinned to regions: [{x, y, n}] at each pinned region's top-left corner. */
  pinPoints() {
    if (!this.pins || !this.pins.length) return null;
    const out = [];
    this.pins.forEach((pin, n) => {
      const r = this.regions.find((x) => x.id === pin.regionId);
      const b = r && r.geometry.type === "box" ? [r.geometry.x1, r.geometry.y1] : r && r.geometry.points ? [r.geometry.points[0], r.geometry.points[1]] : null;
      if (b) out.push({ x: b[0], y: b[1], n: n + 1 });
    });
    return out;
  }

  // --- view -----------------------------------------------------------------
  resize() {
    const rect = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(rect.width * dpr));
    this.canvas.height = Math.max(1, Math.round(rect.height * dpr));
    this.cssW = rect.width;
    this.cssH = rect.height;
    this.requestDraw();
  }

  fit() {
    this.view.fit(this.width, this.height, this.cssW, this.cssH);
    this.requestDraw();
  }

  zoom(factor) {
    this.view.zoomAt(this.cssW / 2, this.cssH / 2, factor);
    this.requestDraw();
  }

  requestDraw() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this.draw();
    });
  }

  scene() {
    return {
      image: this.image, width: this.width, height: this.height, schema: this.schema,
      regions: this.regions, predictions: this.predictions, selected: this.selected,
      selectedRegion: this.selectedRegion(), selectedIsPrediction: this.selPred >= 0,
      vertex: this.vertex, draft: this.draft, skeletons: this.skeletons, pins: this.pinPoints(), cursor: this.kcursor, paint: this.paintLayer,
    };
  }

  /**
   * Draw a frame. The whole image with its regions is rendered once into a layer at the current
   * zoom; while only the translation changes (panning), a frame is one blit of that layer. Zoomed
   * in so far that the layer would be much larger than the screen, every frame renders directly.
   */
  draw() {
    const dpr = window.devicePixelRatio || 1;
    const s = this.view.scale * dpr;
    const w = Math.ceil((this.width + 2 * LAYER_MARGIN / this.view.scale) * s);
    const hh = Math.ceil((this.height + 2 * LAYER_MARGIN / this.view.scale) * s);
    if (w * hh > 3 * this.canvas.width * this.canvas.height || this.draft || this.kcursor || this.paintLayer) {
      this._layerKey = null;
      render(this.canvas, this.view, this.scene());
      return;
    }
    const key = [this.view.scale, w, hh, this.regions, this.predictions, this.selected, this.selPred, this.vertex,
      this.pins, this.image, this.schema];
    const same = this._layerKey && key.every((v, i) => v === this._layerKey[i]);
    if (!same) {
      if (!this._layer) this._layer = document.createElement("canvas");
      this._layer.width = w;
      this._layer.height = hh;
      const v = new Viewport();
      v.scale = this.view.scale;
      v.tx = LAYER_MARGIN;
      v.ty = LAYER_MARGIN;
      render(this._layer, v, this.scene(), "rgba(0,0,0,0)");
      this._layerKey = key;
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.drawImage(this._layer, Math.round((this.view.tx - LAYER_MARGIN) * dpr), Math.round((this.view.ty - LAYER_MARGIN) * dpr));
  }

  // --- pointer --------------------------------------------------------------
  _point(e) {
    const rect = this.canvas.getBoundingClientRect();
    const sx = e.clientX - rect.left, sy = e.clientY - rect.top;
    const [x, y] = this.view.toImage(sx, sy);
    return { sx, sy, x, y };
  }

  _listen() {
    const c = this.canvas;
    this._handlers = {
      wheel: (e) => {
        e.preventDefault();
        const p = this._point(e);
        this.view.zoomAt(p.sx, p.sy, Math.exp(-e.deltaY * 0.0015));
        this.requestDraw();
      },
      pointerdown: (e) => {
        c.focus();
        const p = this._point(e);
        if (e.button === 1 || (e.button === 0 && this._space)) {
          e.preventDefault();
          this._pan = { sx: p.sx, sy: p.sy };
          c.setPointerCapture(e.pointerId);
          c.classList.add("panning");
          return;
        }
        if (e.button !== 0) return;
        c.setPointerCapture(e.pointerId);
        this.tool.down(this, p, e);
      },
      pointermove: (e) => {
        const p = this._point(e);
        if (this._pan) {
          this.view.pan(p.sx - this._pan.sx, p.sy - this._pan.sy);
          this._pan = { sx: p.sx, sy: p.sy };
          this.requestDraw();
          return;
        }
        this.tool.move(this, p, e);
      },
      pointerup: (e) => {
        if (this._pan) {
          this._pan = null;
          c.classList.remove("panning");
          return;
        }
        this.tool.up(this, this._point(e), e);
      },
      dblclick: (e) => this.tool.dblclick?.(this, this._point(e), e),
      keydown: (e) => { if (e.code === "Space") { this._space = true; e.preventDefault(); } },
      keyup: (e) => { if (e.code === "Space") this._space = false; },
      resize: () => this.resize(),
    };
    for (const name of ["wheel", "pointerdown", "pointermove", "pointerup", "dblclick"]) {
      c.addEventListener(name, this._handlers[name], name === "wheel" ? { passive: false } : undefined);
    }
    window.addEventListener("keydown", this._handlers.keydown);
    window.addEventListener("keyup", this._handlers.keyup);
    window.addEventListener("resize", this._handlers.resize);
    c.addEventListener("auxclick", (e) => e.preventDefault());
  }

  destroy() {
    window.removeEventListener("keydown", this._handlers.keydown);
    window.removeEventListener("keyup", this._handlers.keyup);
    window.removeEventListener("resize", this._handlers.resize);
    if (this._frame) cancelAnimationFrame(this._frame);
  }
}

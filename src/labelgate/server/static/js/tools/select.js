// Select tool, and the editing every drawing tool falls back on: click to select, drag a region to
// move it, drag a box handle to resize, drag a vertex to move it, Alt+click a vertex to delete it,
// double-click a polygon edge to insert a vertex. Dragging a model prediction accepts it as your
// own region, edited, in one undo step.

import {
  clampBox, deleteVertex, edgeAt, handleAt, insertVertex, moveVertex, resizeBox, resizeRotated, rotateTowards, tidy,
  translate, vertexAt,
} from "../canvas/geometry.js";

export class SelectTool {
  constructor() {
    this.drag = null;
  }

  /** Start editing the selected region at p, if p is on it; returns whether it did. */
  grabSelected(ed, p, e) {
    const r = ed.selectedRegion();
    if (!r || !r.geometry || ed.readOnly) return false;
    const tol = 6 / ed.view.scale;
    const g = r.geometry;
    const handle = handleAt(g, p.x, p.y, tol);  // rotation handle: 4 * tol = 24 screen px above the top edge
    const vertex = handle ? -1 : vertexAt(g, p.x, p.y, tol);
    if (vertex >= 0 && e.altKey && ed.selected >= 0) {
      const min = g.type === "polygon" ? 3 : 1;
      const left = g.type === "keypoints" ? g.visibility.filter(Boolean).length : g.points.length / 2;
      if (left > min) ed.commit(ed.regions.map((x, i) => (i === ed.selected ? { ...x, geometry: deleteVertex(g, vertex) } : x)));
      return true;
    }
    if (!handle && vertex < 0 && !(g.type !== "keypoints" && this._inside(ed, g, p))) return false;
    this.drag = { kind: handle ? "resize" : vertex >= 0 ? "vertex" : "move", handle, vertex, start: p, orig: g };
    ed.vertex = vertex;
    if (ed.selPred >= 0) {
      // Editing a prediction: accept it first (one undo step covers the accept and the edit).
      ed.selected = ed.acceptPrediction(ed.selPred);
      ed.selPred = -1;
      this.drag.merged = true;
      return true;
    }
    ed.beginDrag();
    return true;
  }

  _inside(ed, g, p) {
    const hit = ed.hit(p.x, p.y);
    if (!hit) return false;
    return (hit.kind === "region" && hit.index === ed.selected) || (hit.kind === "pred" && hit.index === ed.selPred);
  }

  /** Select whatever is under p (or nothing). */
  pick(ed, p) {
    const hit = ed.hit(p.x, p.y);
    if (!hit) ed.select(-1);
    else if (hit.kind === "region") ed.select(hit.index);
    else ed.select(-1, hit.index);
  }

  down(ed, p, e) {
    if (this.grabSelected(ed, p, e)) return;
    this.pick(ed, p);
    if (ed.selectedRegion()) this.grabSelected(ed, p, e);
  }

  move(ed, p) {
    const d = this.drag;
    if (!d) return;
    const i = ed.selected;
    if (i < 0) return;
    let g;
    if (d.kind === "move") g = translate(d.orig, p.x - d.start.x, p.y - d.start.y);
    else if (d.kind === "resize" && d.handle === "rotate") g = rotateTowards(d.orig, p.x, p.y);
    else if (d.kind === "resize" && d.handle.startsWith("corner")) g = resizeRotated(d.orig, Number(d.handle.slice(6)), p.x, p.y);
    else if (d.kind === "resize") g = resizeBox(d.orig, d.handle, p.x, p.y);
    else g = moveVertex(d.orig, d.vertex, p.x, p.y);
    if (g.type === "box") g = clampBox(g, ed.width, ed.height);
    d.moved = true;
    ed.replaceLive(i, { ...ed.regions[i], geometry: g });
  }

  up(ed) {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    const i = ed.selected;
    if (i >= 0 && d.moved) ed.replaceLive(i, { ...ed.regions[i], geometry: tidy(ed.regions[i].geometry) });
    if (d.merged) {
      // The accept made the undo step; undoing it also undoes this edit.
      if (d.moved) ed.onChange();
      return;
    }
    ed.endDrag();
  }

  dblclick(ed, p) {
    const r = ed.selectedRegion();
    if (!r || ed.selected < 0 || ed.readOnly || r.geometry.type !== "polygon") return;
    const k = edgeAt(r.geometry, p.x, p.y, 6 / ed.view.scale);
    if (k < 0) return;
    ed.commit(ed.regions.map((x, i) => (i === ed.selected ? { ...x, geometry: insertVertex(r.geometry, k, p.x, p.y) } : x)));
  }
}

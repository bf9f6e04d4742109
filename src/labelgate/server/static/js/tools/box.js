// Box tool: drag on empty canvas (or outside the selection) to draw a box with the current label;
// drag the selected box to move it or its handles to resize it; a click without a drag selects.

import { clampBox, normBox, tidy } from "../canvas/geometry.js";
import { SelectTool } from "./select.js";

const MIN_PX = 3; // a drag shorter than this on screen is a click

export class BoxTool extends SelectTool {
  down(ed, p, e) {
    if (this.grabSelected(ed, p, e)) return;
    this.start = p;
    ed.draft = { label: ed.label, geometry: normBox(p.x, p.y, p.x, p.y) };
  }

  move(ed, p, e) {
    if (this.drag) return super.move(ed, p, e);
    if (!this.start) return;
    ed.draft = { label: ed.label, geometry: clampBox(normBox(this.start.x, this.start.y, p.x, p.y), ed.width, ed.height) };
    ed.requestDraw();
  }

  up(ed, p, e) {
    if (this.drag) return super.up(ed, p, e);
    const s = this.start;
    this.start = null;
    if (!s) return;
    const draft = ed.draft;
    ed.draft = null;
    if (Math.abs(p.sx - s.sx) < MIN_PX && Math.abs(p.sy - s.sy) < MIN_PX) {
      this.pick(ed, p);
      return;
    }
    const g = tidy(draft.geometry);
    if (g.x2 - g.x1 > 0 && g.y2 - g.y1 > 0) ed.addRegion(g);
    else ed.requestDraw();
  }
}

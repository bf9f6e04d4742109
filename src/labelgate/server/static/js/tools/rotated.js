// Rotated box tool: drag to draw (axis-aligned at first); on the selected rotated box drag the
// round handle above its top edge to turn it, a corner to resize it (the opposite corner stays),
// the inside to move it; [ and ] turn it by 1 degree, { and } by 15.

import { normBox, tidy } from "../canvas/geometry.js";
import { BoxTool } from "./box.js";

export class RotatedBoxTool extends BoxTool {
  up(ed, p, e) {
    if (this.drag) return super.up(ed, p, e);
    const s = this.start;
    this.start = null;
    if (!s) return;
    ed.draft = null;
    if (Math.abs(p.sx - s.sx) < 3 && Math.abs(p.sy - s.sy) < 3) {
      this.pick(ed, p);
      return;
    }
    const b = normBox(s.x, s.y, p.x, p.y);
    ed.addRegion(tidy({ type: "rotated_box", cx: (b.x1 + b.x2) / 2, cy: (b.y1 + b.y2) / 2, width: b.x2 - b.x1, height: b.y2 - b.y1, angle: 0 }));
  }
}

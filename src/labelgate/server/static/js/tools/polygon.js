// Polygon tool: click to add vertices; Enter, a double-click, or a click on the first vertex closes
// the polygon (3 vertices at least); Escape drops it. With nothing being drawn, the selected
// polygon's vertices drag, Alt+click deletes one, double-click on an edge inserts one.

import { tidy } from "../canvas/geometry.js";
import { SelectTool } from "./select.js";

export class PolygonTool extends SelectTool {
  down(ed, p, e) {
    if (!ed.draft && this.grabSelected(ed, p, e)) return;
    const pts = ed.draft ? ed.draft.geometry.points.slice(0, -2) : [];
    const close = 6 / ed.view.scale;
    if (pts.length >= 6 && Math.abs(pts[0] - p.x) <= close && Math.abs(pts[1] - p.y) <= close) {
      this.finish(ed, pts);
      return;
    }
    pts.push(p.x, p.y, p.x, p.y); // the last pair follows the pointer
    ed.draft = { label: ed.label, geometry: { type: "polygon", points: pts } };
    ed.requestDraw();
  }

  move(ed, p, e) {
    if (this.drag) return super.move(ed, p, e);
    if (!ed.draft) return;
    const pts = ed.draft.geometry.points.slice();
    pts[pts.length - 2] = p.x;
    pts[pts.length - 1] = p.y;
    ed.draft = { ...ed.draft, geometry: { type: "polygon", points: pts } };
    ed.requestDraw();
  }

  up(ed, p, e) {
    if (this.drag) super.up(ed, p, e);
  }

  dblclick(ed, p) {
    if (ed.draft) {
      // The two clicks of the double-click added two vertices at the same place; drop them.
      this.finish(ed, ed.draft.geometry.points.slice(0, -4));
      return;
    }
    super.dblclick(ed, p);
  }

  /** Enter: close the polygon being drawn. */
  finish(ed, pts = ed.draft ? ed.draft.geometry.points.slice(0, -2) : null) {
    ed.draft = null;
    if (pts && pts.length >= 6) ed.addRegion(tidy({ type: "polygon", points: pts }));
    else ed.requestDraw();
  }
}

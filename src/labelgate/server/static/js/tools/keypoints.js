// Keypoints tool: for a class with a skeleton, click each named point in order (Enter finishes
// early, leaving the rest unlabelled); for a class without one, each click is a one-point region.

import { tidy } from "../canvas/geometry.js";
import { SelectTool } from "./select.js";

export function skeletonOf(schema, label) {
  const c = (schema.classes || []).find((k) => k.name === label);
  return c && c.skeleton ? c.skeleton : null;
}

export class KeypointsTool extends SelectTool {
  down(ed, p, e) {
    if (!ed.draft && this.grabSelected(ed, p, e)) return;
    const sk = skeletonOf(ed.schema, ed.label);
    const n = sk ? sk.points.length : 1;
    const pts = ed.draft ? ed.draft.geometry.points.slice() : [];
    pts.push(p.x, p.y);
    const geometry = { type: "keypoints", points: pts, visibility: pts.map(() => 2).slice(0, pts.length / 2) };
    if (pts.length / 2 >= n) {
      ed.draft = null;
      ed.addRegion(tidy(geometry));
      return;
    }
    ed.draft = { label: ed.label, geometry };
    ed.requestDraw();
  }

  move(ed, p, e) {
    if (this.drag) super.move(ed, p, e);
  }

  up(ed, p, e) {
    if (this.drag) super.up(ed, p, e);
  }

  /** The name of the next point to place, for the status line. */
  prompt(ed) {
    const sk = skeletonOf(ed.schema, ed.label);
    if (!sk) return "click a point";
    const k = ed.draft ? ed.draft.geometry.points.length / 2 : 0;
    return `click "${sk.points[k]}" (${k + 1}/${sk.points.length})`;
  }

  finish(ed) {
    if (!ed.draft) return;
    const sk = skeletonOf(ed.schema, ed.label);
    const n = sk ? sk.points.length : 1;
    const pts = ed.draft.geometry.points.slice();
    const vis = ed.draft.geometry.visibility.slice();
    while (vis.length < n) { pts.push(0, 0); vis.push(0); }
    ed.draft = null;
    ed.addRegion(tidy({ type: "keypoints", points: pts, visibility: vis }));
  }
}

// Text editor: select text to make a named-entity span (character offsets into the item's text,
// end exclusive) with the current label; document classes; undo/redo. The overlapping-span policy
// comes from the project's settings ("span_overlap": "forbid"); spans may overlap otherwise.

import { colorOf } from "../canvas/render.js";
import { h, toast } from "../dom.js";
import { relabel } from "../schema.js";

export class TextEditor {
  constructor(container, { schema, text, settings = {}, readOnly = false, onChange = () => {}, onSelect = () => {} }) {
    this.schema = schema;
    this.text = text;
    this.readOnly = readOnly;
    this.forbidOverlap = settings.span_overlap === "forbid";
    this.onChange = onChange;
    this.onSelect = onSelect;
    this.regions = [];
    this.predictions = [];
    this.selected = -1;
    this.selPred = -1;
    this.vertex = -1;
    this.label = (schema.classes && schema.classes[0] && schema.classes[0].name) || "";
    this.undoStack = [];
    this.redoStack = [];
    this.doc = h("div", { class: "text-doc", id: "text-doc", tabindex: 0 });
    container.append(this.doc);
    this.doc.addEventListener("mouseup", () => this._fromSelection());
    this.doc.addEventListener("click", (e) => this._click(e));
  }

  setRegions(regions) {
    this.regions = regions.slice();
    this.render();
  }

  selectedRegion() { return this.selected >= 0 ? this.regions[this.selected] : null; }

  nextId() {
    let m = 0;
    for (const r of this.regions) if (typeof r.id === "number" && r.id > m) m = r.id;
    return m + 1;
  }

  commit(regions, select = this.selected) {
    this.undoStack.push(this.regions);
    this.redoStack = [];
    this.regions = regions;
    this.select(select);
    this.onChange();
  }

  undo() {
    if (!this.undoStack.length) return;
    this.redoStack.push(this.regions);
    this.regions = this.undoStack.pop();
    this.select(-1);
    this.onChange();
  }

  redo() {
    if (!this.redoStack.length) return;
    this.undoStack.push(this.regions);
    this.regions = this.redoStack.pop();
    this.select(-1);
    this.onChange();
  }

  select(i) {
    this.selected = i;
    this.render();
    this.onSelect(this.selectedRegion());
  }

  /** The [start, end) character offsets of the current text selection inside the document, or null. */
  selectionOffsets() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    const at = (node, off) => {
      const seg = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
      if (!seg || !this.doc.contains(seg) || seg.dataset.start == null) return null;
      return Number(seg.dataset.start) + (node.nodeType === Node.TEXT_NODE ? off : 0);
    };
    let a = at(range.startContainer, range.startOffset), b = at(range.endContainer, range.endOffset);
    if (a == null || b == null) return null;
    // Trim surrounding whitespace, as annotators rarely mean to include it.
    while (a < b && /\s/.test(this.text[a])) a++;
    while (b > a && /\s/.test(this.text[b - 1])) b--;
    return a < b ? [a, b] : null;
  }

  addSpan(start, end, label = this.label) {
    if (this.readOnly) return;
    if (this.forbidOverlap && this.regions.some((r) => r.geometry.type === "text_span" && r.geometry.start < end && start < r.geometry.end)) {
      toast("This project does not allow overlapping spans", "error");
      return;
    }
    const r = { id: this.nextId(), label, geometry: { type: "text_span", start, end } };
    this.commit([...this.regions, r], -1); // unselected: the next hotkey picks the next label
  }

  _fromSelection() {
    const off = this.selectionOffsets();
    if (!off) return;
    window.getSelection().removeAllRanges();
    this.addSpan(off[0], off[1]);
  }

  /** Number key: label the selected text, or relabel the selected span. */
  labelSelection(label) {
    const off = this.selectionOffsets();
    if (off) {
      window.getSelection().removeAllRanges();
      this.addSpan(off[0], off[1], label);
    } else {
      this.relabelSelected(label);
    }
  }

  _click(e) {
    const seg = e.target.closest("[data-start]");
    if (!seg || !window.getSelection().isCollapsed) return;
    const pos = Number(seg.dataset.start);
    let best = -1, len = Infinity;
    this.regions.forEach((r, i) => {
      const g = r.geometry;
      if (g.type === "text_span" && g.start <= pos && pos < g.end && g.end - g.start < len) { best = i; len = g.end - g.start; }
    });
    this.select(best);
  }

  relabelSelected(label) {
    if (this.selected < 0 || this.readOnly) return;
    this.commit(this.regions.map((r, i) => (i === this.selected ? relabel(this.schema, r, label) : r)));
  }

  deleteSelected() {
    if (this.selected < 0 || this.readOnly) return;
    this.commit(this.regions.filter((_, i) => i !== this.selected), -1);
  }

  setAttributes(attributes) {
    if (this.selected < 0) return;
    this.commit(this.regions.map((r, i) => (i === this.selected ? { ...r, attributes } : r)));
  }

  toggleClassification(label) {
    if (this.readOnly || !label) return;
    const k = this.regions.findIndex((r) => r.geometry.type === "classification" && r.label === label);
    if (k >= 0) this.commit(this.regions.filter((_, i) => i !== k), -1);
    else this.commit([...this.regions, { id: this.nextId(), label, geometry: { type: "classification" } }], -1);
  }

  acceptPrediction() { return -1; }

  cycle(step) {
    const n = this.regions.length;
    if (n) this.select(((this.selected < 0 ? (step > 0 ? -1 : 0) : this.selected) + step + n) % n);
  }

  /** Split the text at every span boundary; each piece is one element carrying its start offset. */
  render() {
    const spans = this.regions.map((r, i) => ({ r, i })).filter(({ r }) => r.geometry.type === "text_span");
    const cuts = new Set([0, this.text.length]);
    for (const { r } of spans) { cuts.add(r.geometry.start); cuts.add(r.geometry.end); }
    const points = [...cuts].filter((c) => c >= 0 && c <= this.text.length).sort((a, b) => a - b);
    const parts = [];
    for (let k = 0; k + 1 < points.length; k++) {
      const a = points[k], b = points[k + 1];
      const cover = spans.filter(({ r }) => r.geometry.start <= a && b <= r.geometry.end);
      const el = h("span", { dataset: { start: String(a) } }, this.text.slice(a, b));
      if (cover.length) {
        const top = cover.reduce((x, y) => (y.r.geometry.end - y.r.geometry.start < x.r.geometry.end - x.r.geometry.start ? y : x));
        const color = colorOf(this.schema, top.r.label);
        el.className = "span" + (cover.some((c) => c.i === this.selected) ? " selected" : "") + (cover.length > 1 ? " nested" : "");
        el.style.background = color + "55";
        el.style.borderBottom = `2px solid ${color}`;
        el.title = cover.map((c) => c.r.label).join(", ");
        el.dataset.labels = cover.map((c) => c.r.label).join(",");
      }
      parts.push(el);
    }
    this.doc.replaceChildren(...parts);
  }

  requestDraw() { this.render(); }

  destroy() {}
}

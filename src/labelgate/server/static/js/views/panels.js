// Side panels shared by the annotate and review views: labels with hotkeys, the selected region's
// attributes, review feedback with comments pinned to regions.

import { colorOf } from "../canvas/render.js";
import { h } from "../dom.js";
import { attributeSpecs } from "../schema.js";

// Review comments pinned to a region are sent as lines "[region <id>] <text>" in the review's
// comment (the server's review endpoint takes one comment per annotation; see the report).
const PIN = /^\[region (\d+)\]\s*(.*)$/;

export function pinComment(regionId, text) {
  return `[region ${regionId}] ${text}`;
}

/** [{regionId, text}] for pinned lines and [{regionId: null, text}] for the rest, from review events. */
export function parseComments(events) {
  const out = [];
  for (const e of events) {
    for (const v of e.data.regions || []) {
      if (!v.accept) out.push({ regionId: Number(v.region_id), text: v.comment || "rejected", event: e });
    }
    for (const line of String(e.data.comment || "").split("\n")) {
      if (!line.trim()) continue;
      const m = PIN.exec(line);
      out.push(m ? { regionId: Number(m[1]), text: m[2], event: e } : { regionId: null, text: line, event: e });
    }
  }
  return out;
}

export function parsePins(events) {
  return parseComments(events).filter((c) => c.regionId != null);
}

export function labelPanel(schema, editor, pick) {
  const classes = schema.classes || [];
  const sel = editor.selectedRegion ? editor.selectedRegion() : null;
  const counts = new Map();
  for (const r of editor.regions) counts.set(r.label, (counts.get(r.label) || 0) + 1);
  const docClasses = editor.regions.filter((r) => r.geometry.type === "classification").map((r) => r.label);
  return h("section", { class: "labels" },
    h("h2", {}, "Labels"),
    h("ul", { class: "label-list" }, classes.map((c, i) => h("li", {},
      h("button", { type: "button", class: c.name === editor.label ? "label active" : "label", dataset: { label: c.name },
        onclick: () => pick(c.name) },
      h("span", { class: "swatch", style: `background:${colorOf(schema, c.name)}` }),
      i < 9 ? h("kbd", {}, String(i + 1)) : "", " ", c.name, h("span", { class: "count" }, String(counts.get(c.name) || 0)))))),
    docClasses.length ? h("p", { class: "doc-classes" }, "Item classes: ", docClasses.map((l) => h("span", { class: "pill" }, l))) : "",
    h("p", { class: "muted", id: "region-count" }, `${editor.regions.length} regions`,
      sel ? ` · selected: ${sel.label}${sel.id != null ? ` #${sel.id}` : ""}${editor.selPred >= 0 ? " (model prediction)" : ""}` : ""));
}

export function attributesForm(schema, editor) {
  const r = editor.selected >= 0 ? editor.regions[editor.selected] : null;
  if (!r) return "";
  const specs = attributeSpecs(schema, r.label);
  if (!specs.length) return "";
  const values = { ...(r.attributes || {}) };
  const set = (name, v) => {
    if (v === "" || v == null) delete values[name];
    else values[name] = v;
    editor.setAttributes({ ...values });
  };
  const field = (a) => {
    const cur = values[a.name] ?? a.default ?? "";
    if (a.type === "select" || a.type === "radio") {
      return h("select", { name: a.name, onchange: (e) => set(a.name, e.target.value) },
        h("option", { value: "" }, "—"), (a.values || []).map((v) => h("option", { value: v, selected: v === cur }, v)));
    }
    if (a.type === "checkbox") {
      return h("input", { type: "checkbox", name: a.name, checked: cur === true || cur === "true", onchange: (e) => set(a.name, e.target.checked) });
    }
    if (a.type === "number") {
      return h("input", { type: "number", name: a.name, value: cur, onchange: (e) => set(a.name, e.target.value === "" ? "" : Number(e.target.value)) });
    }
    return h("input", { type: "text", name: a.name, value: cur, onchange: (e) => set(a.name, e.target.value) });
  };
  return h("section", { class: "attributes" }, h("h2", {}, `Attributes of #${r.id ?? ""} ${r.label}`),
    specs.map((a) => h("label", {}, a.name, field(a))));
}

export function feedbackList(events, editor) {
  const comments = parseComments(events);
  return h("section", { class: "feedback", id: "feedback" }, h("h2", {}, "Reviewer feedback"),
    h("ol", {}, comments.map((c) => h("li", {},
      c.regionId != null ? h("button", { type: "button", class: "link", onclick: () => {
        const i = editor.regions.findIndex((r) => r.id === c.regionId);
        if (i >= 0) editor.select(i);
      } }, `region #${c.regionId}`) : "",
      c.regionId != null ? ": " : "", c.text))));
}

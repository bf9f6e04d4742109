// Adjudication: every annotator's version of one task side by side (read-only canvases), the
// engine's consensus to start from when the server provides it, and the final answer.

import * as api from "../api.js";
import { Editor } from "../canvas/editor.js";
import { h } from "../dom.js";

export async function show(root, { params: [tid], crumbs }) {
  const task = await api.task(tid);
  const project = await api.project(task.project_id);
  crumbs(["Projects", "#/"], [project.name, `#/projects/${project.id}`], [`Adjudicate ${task.key}`]);
  const versions = task.annotations.filter((a) => a.source === "human" && ["submitted", "accepted", "rejected"].includes(a.status));
  const img = new Image();
  img.src = api.mediaUrl(task.id);
  await img.decode();
  let consensus = null, note = null;
  try {
    consensus = await api.consensus(task.id);
  } catch (e) {
    note = e.status === 404 || e.status === 405 ? "This server has no GET /tasks/{id}/consensus endpoint yet; start from one annotator's version."
      : `Could not load the consensus: ${e.message}`;
  }
  const cols = [...versions.map((a) => [`${a.author_name} (${a.status}, ${a.regions.length})`, a.regions]),
    ...(consensus ? [["consensus", consensus.regions]] : [])];
  const grid = h("div", { class: "versions", id: "versions" });
  root.append(h("div", { style: "display:flex;flex-direction:column;height:100%" },
    note ? h("p", { class: "missing", style: "margin:8px" }, note) : "", grid));
  const editors = [];
  for (const [title, regions] of cols) {
    const canvas = h("canvas", {});
    grid.append(h("div", { class: "version" }, h("header", {}, h("b", {}, title)), canvas));
    const ed = new Editor(canvas, { schema: project.label_schema, width: task.item.width || img.naturalWidth,
      height: task.item.height || img.naturalHeight, image: img, readOnly: true });
    ed.setRegions(regions);
    editors.push(ed);
  }
  for (const ed of editors) { // sizes are known once every column is in the grid
    ed.resize();
    ed.fit();
  }
  if (!cols.length) grid.append(h("p", {}, "No submitted versions to adjudicate."));
  document.body.dataset.ready = `adjudicate-${task.id}`;
  return { leave() { editors.forEach((e) => e.destroy()); } };
}

// Adjudication: every annotator's version of one task side by side (read-only canvases), the
// engine's proposal (its consensus, or the first answer) to start from, and the final
// answer, which records the annotations it was built from.

import * as api from "../api.js";
import { Editor } from "../canvas/editor.js";
import { h, toast } from "../dom.js";

export async function show(root, { params: [id], hash, crumbs, go }) {
  let taskId = id;
  if (hash.startsWith("#/projects/")) {
    const next = await api.nextAtStage(id, "adjudicate");
    if (!next) {
      root.append(h("div", { class: "card", style: "margin:18px" }, h("h1", {}, "Nothing to adjudicate"),
        h("a", { href: `#/projects/${id}` }, "Back to the project")));
      return {};
    }
    taskId = next.id;
    history.replaceState(null, "", `#/tasks/${taskId}/adjudicate`);
  }
  const task = await api.task(taskId);
  const project = await api.project(task.project_id);
  crumbs(["Projects", "#/"], [project.name, `#/projects/${project.id}`], [`Adjudicate ${task.key}`]);
  const versions = task.annotations.filter((a) => a.source === "human" && ["submitted", "accepted", "rejected"].includes(a.status));
  let held = null;
  try {
    held = await api.assignment(task.id);
  } catch (e) {
    if (e.status !== 404 && e.status !== 409) throw e;
  }
  const adjudicating = held && held.mode === "adjudicate";
  const img = new Image();
  img.src = api.mediaUrl(task.id);
  await img.decode();
  const sources = adjudicating && held.annotations.length ? held.annotations : versions.map((a) => a.id);
  const cols = [
    ...(adjudicating && Array.isArray(held.proposal) ? [["proposal (engine)", held.proposal, sources, "proposal"]] : []),
    ...versions.map((a) => [`${a.author_name} (${a.status}, ${a.regions.length})`, a.regions, [a.id], `chose ${a.author_name}`]),
  ];
  const note = adjudicating ? `Adjudicating${held.guideline_version != null ? ` under guidelines v${held.guideline_version}` : ""}: pick the answer to keep.`
    : "View only: you hold no adjudication assignment on this task (take one from the project's adjudication queue).";
  const grid = h("div", { class: "versions", id: "versions" });
  root.append(h("div", { style: "display:flex;flex-direction:column;height:100%" }, h("p", { class: "muted", style: "margin:8px" }, note), grid));
  const editors = [];
  for (const [title, regions, from, method] of cols) {
    const canvas = h("canvas", {});
    const choose = adjudicating ? h("button", { type: "button", class: "primary keep", onclick: async () => {
      await api.adjudicate(task.id, regions, from, method);
      toast("Final answer saved");
      go(`#/projects/${project.id}/adjudicate`);
    } }, "Keep this") : "";
    grid.append(h("div", { class: "version" }, h("header", {}, h("b", {}, title), h("span", { class: "spacer" }), choose), canvas));
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

// Review: a list of tasks with submitted work, and one annotation at a time read-only on the
// canvas (or text), accept or reject it, reject single regions with a comment pinned to each,
// and the task's history beside it.

import * as api from "../api.js";
import { Editor } from "../canvas/editor.js";
import { h } from "../dom.js";
import { bindShortcuts } from "../shortcuts.js";
import { labelPanel, parseComments, pinComment } from "./panels.js";
import { TextEditor } from "./text.js";

const REVIEWABLE = ["submitted", "accepted", "rejected"];

export async function show(root, ctx) {
  return ctx.hash.startsWith("#/projects/") ? list(root, ctx) : one(root, ctx);
}

async function list(root, { params: [pid], crumbs, go }) {
  const p = await api.project(pid);
  crumbs(["Projects", "#/"], [p.name, `#/projects/${pid}`], ["Review"]);
  root.style.overflow = "auto";
  const page = await api.tasks(pid, 0, 200);
  const withWork = page.tasks.filter((t) => t.n_submitted > 0);
  const details = await Promise.all(withWork.slice(0, 100).map((t) => api.task(t.id)));
  const rows = [];
  for (const t of details) {
    for (const a of t.annotations.filter((x) => x.source === "human" && REVIEWABLE.includes(x.status))) {
      rows.push(h("tr", {}, h("td", {}, h("a", { href: `#/tasks/${t.id}/review?ann=${a.id}` }, t.key)),
        h("td", {}, a.author_name || ""), h("td", {}, h("span", { class: `pill ${a.status}` }, a.status)),
        h("td", {}, String(a.regions.length)), h("td", {}, a.submitted_at ? new Date(a.submitted_at).toLocaleString() : "")));
    }
  }
  const stage = h("input", { id: "stage-name", value: "review", size: 14, "aria-label": "Review stage" });
  const nextOut = h("span", { class: "muted" });
  const takeNext = async (e) => {
    e.preventDefault();
    const t = await api.nextAtStage(pid, stage.value.trim());
    if (t) go(`#/tasks/${t.id}/review`);
    else nextOut.textContent = ` Nothing waiting for you at stage "${stage.value}".`;
  };
  root.append(h("div", { style: "padding:18px 22px" }, h("h1", {}, `Review — ${p.name}`),
    h("form", { class: "actions", onsubmit: takeNext }, "Workflow stage ", stage,
      h("button", { type: "submit", class: "primary", id: "review-next" }, "Review next"), nextOut),
    h("p", { class: "muted" }, `${withWork.length} of ${page.total} tasks have submitted work` +
      (page.total > 200 ? " (first 200 tasks shown; the server has no review-queue endpoint yet)" : "")),
    rows.length ? h("table", { class: "review-list" }, h("tr", {}, ["Task", "Annotator", "Status", "Regions", "Submitted"].map((x) => h("th", {}, x))), rows)
      : h("p", {}, "Nothing to review.")));
  return {};
}

async function one(root, { params: [tid], hash, crumbs }) {
  const task = await api.task(tid);
  const project = await api.project(task.project_id);
  const annId = Number(new URLSearchParams(hash.split("?")[1] || "").get("ann")) || null;
  const candidates = task.annotations.filter((a) => a.source === "human" && REVIEWABLE.includes(a.status));
  const held = await api.assignment(task.id).catch((e) => { if (e.status === 404 || e.status === 409) return null; throw e; });
  // In a workflow project the reviewer holds a review assignment: verdicts go per region to the engine.
  const workflow = held && held.mode === "review";
  const heldId = workflow && held.annotations.length ? held.annotations[held.annotations.length - 1] : null;
  let ann = candidates.find((a) => a.id === (annId || heldId)) || candidates.find((a) => a.status === "submitted") || candidates[0];
  crumbs(["Projects", "#/"], [project.name, `#/projects/${project.id}`], ["Review", `#/projects/${project.id}/review`], [`Task ${task.key}`]);
  if (!ann) {
    root.append(h("p", { style: "padding:18px" }, "This task has no submitted annotation to review."));
    return {};
  }
  const events = await api.taskEvents(task.id);
  const side = h("aside", { class: "side" });
  const work = h("div", { class: "work" });
  const bar = h("div", { class: "taskbar" }, h("span", { id: "review-status", class: "status" },
    `${ann.author_name}: ${ann.status} (v${ann.version})` + (workflow ? ` · stage ${held.stage}` : "")),
    h("span", { class: "spacer" }));
  root.append(h("div", { class: "annotate" }, h("div", { class: "center" }, bar, work), side));

  let editor;
  if ((task.item.kind || "image") === "text") {
    editor = new TextEditor(work, { schema: project.label_schema, text: task.item.text || "", readOnly: true, onSelect: () => panel() });
    editor.setRegions(ann.regions);
  } else {
    const canvas = h("canvas", { id: "canvas", tabindex: 0 });
    work.append(canvas);
    const img = new Image();
    img.src = api.mediaUrl(task.id);
    await img.decode();
    editor = new Editor(canvas, { schema: project.label_schema, width: task.item.width || img.naturalWidth,
      height: task.item.height || img.naturalHeight, image: img, readOnly: true, onSelect: () => panel() });
    editor.setRegions(ann.regions);
    editor.fit();
  }

  const pins = []; // [{regionId, accept, text}] region verdicts waiting to be sent with the decision
  const general = h("textarea", { id: "review-comment", rows: 3, placeholder: "Comment for the annotator" });
  const regionComment = h("input", { id: "region-comment", placeholder: "What is wrong with the selected region?" });

  const send = async (accept) => {
    const rejected = pins.filter((p) => !p.accept);
    const lines = [...rejected.map((p) => pinComment(p.regionId, p.text)), general.value.trim()].filter(Boolean);
    if (!accept && !lines.length) {
      general.focus();
      general.placeholder = "A rejection needs a comment (or a rejected region)";
      return;
    }
    if (workflow) {
      const out = await api.reviewTask(task.id, accept, general.value.trim() || null,
        pins.map((p) => ({ region_id: String(p.regionId), accept: p.accept, comment: p.text || null })));
      ann = await api.annotation(ann.id);
      bar.querySelector("#review-status").textContent = `${ann.author_name}: ${ann.status} · task ${out.status}`;
      pins.length = 0;
      general.value = "";
      panel();
      return;
    }
    ann = await api.review(ann.id, ann.version, accept, lines.join("\n"));
    pins.length = 0;
    general.value = "";
    bar.querySelector("#review-status").textContent = `${ann.author_name}: ${ann.status} (v${ann.version})`;
    events.splice(0, events.length, ...(await api.taskEvents(task.id)));
    panel();
  };
  const rejectRegion = () => {
    const r = editor.selectedRegion();
    if (!r || r.id == null) return regionComment.focus();
    const text = regionComment.value.trim();
    if (!text) {
      regionComment.focus();
      return;
    }
    pins.push({ regionId: r.id, accept: false, text });
    regionComment.value = "";
    editor.pins = pins.filter((p) => !p.accept); // a new array, so the cached canvas layer is redrawn
    editor.requestDraw();
    panel();
  };
  const acceptRegion = () => {
    const r = editor.selectedRegion();
    if (!r || r.id == null || !workflow) return;
    pins.push({ regionId: r.id, accept: true, text: regionComment.value.trim() });
    regionComment.value = "";
    panel();
  };

  function panel() {
    const sel = editor.selectedRegion();
    const history = events.map((e) => h("li", {}, h("b", {}, e.kind), " ", new Date(e.created_at).toLocaleString(),
      e.data.comment ? h("div", {}, parseComments([e]).map((c) => h("div", {}, c.regionId != null ? `region #${c.regionId}: ` : "", c.text))) : ""));
    side.replaceChildren(
      h("section", {}, h("h2", {}, "Decision"),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", id: "accept", onclick: () => send(true) }, "Accept", h("kbd", {}, "a")),
          h("button", { type: "button", class: "danger", id: "reject", onclick: () => send(false) }, "Reject", h("kbd", {}, "r"))),
        general),
      h("section", {}, h("h2", {}, "Region"),
        sel ? h("p", {}, `#${sel.id} ${sel.label}`) : h("p", { class: "muted" }, "Click a region (or Tab) to select it."),
        regionComment, " ", h("button", { type: "button", id: "reject-region", onclick: rejectRegion }, "Reject region", h("kbd", {}, "x")),
        workflow ? h("button", { type: "button", id: "accept-region", onclick: acceptRegion }, "Accept region", h("kbd", {}, "y")) : "",
        pins.length ? h("ol", { id: "pending-pins" }, pins.map((p) => h("li", {},
          `region #${p.regionId}: ${p.accept ? "accepted" : "rejected"}${p.text ? " — " + p.text : ""}`))) : ""),
      labelPanel(project.label_schema, editor, () => {}),
      h("section", {}, h("h2", {}, "History"), h("ul", { class: "history", id: "history" }, history)),
      candidates.length > 1 ? h("section", {}, h("h2", {}, "Other annotations"), candidates.filter((a) => a.id !== ann.id).map((a) =>
        h("div", {}, h("a", { href: `#/tasks/${task.id}/review?ann=${a.id}` }, `${a.author_name} (${a.status})`)))) : "");
  }
  panel();
  const unbind = bindShortcuts(["review"], {
    "accept-task": () => send(true),
    "reject-task": () => send(false),
    "reject-region": rejectRegion,
    "accept-region": acceptRegion,
    "next-region": () => editor.cycle(1),
  });
  window.__lg.editor = editor;
  document.body.dataset.ready = `review-${task.id}`;
  return { leave() { unbind(); editor.destroy(); } };
}

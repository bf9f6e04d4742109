// Annotator view: takes the next task (or opens one), shows the image editor or the text editor
// with the label panel, the current guideline beside the work, model predictions (dashed),
// review feedback pinned to regions, continuous drafts, and submit.

import * as api from "../api.js";
import { Editor } from "../canvas/editor.js";
import { DraftStore } from "../drafts.js";
import { h, markdown } from "../dom.js";
import { bindShortcuts, toggleHelp } from "../shortcuts.js";
import { attributesForm, feedbackList, labelPanel, parsePins } from "./panels.js";
import { TextEditor } from "./text.js";

const TOOL_BUTTONS = [["box", "Box", "b"], ["rotated", "Rotated", "o"], ["polygon", "Polygon", "p"], ["brush", "Brush", "m"], ["eraser", "Eraser", "e"], ["keypoints", "Keypoints", "k"], ["select", "Select", "v"]];

function loadImage(url) {
  const img = new Image();
  img.src = url;
  return img.decode().then(() => img);
}

function iou(a, b) {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]), hh = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || hh <= 0) return 0;
  const i = w * hh;
  return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i);
}

function box(g) {
  if (g.type === "box") return [g.x1, g.y1, g.x2, g.y2];
  return null;
}

/** Predictions not yet taken: a prediction counts as taken when one of my regions overlaps it (IoU >= 0.5). */
function untaken(preds, mine) {
  const boxes = mine.map((r) => box(r.geometry)).filter(Boolean);
  return preds.filter((p) => {
    const b = box(p.geometry);
    return !b || !boxes.some((m) => iou(b, m) >= 0.5);
  });
}

export async function show(root, { params: [id], hash, user, go, crumbs }) {
  const t0 = performance.now();
  window.__lg.timing = { start: t0 };
  let taskId = id;
  if (hash.endsWith("/label")) {
    const next = await api.nextTask(id);
    if (!next) {
      crumbs(["Projects", "#/"], ["Project", `#/projects/${id}`], ["Done"]);
      root.append(h("div", { class: "card" }, h("h1", {}, "No task left for you"),
        h("p", {}, "Every task is done or held by someone else."), h("a", { href: `#/projects/${id}` }, "Back to the project")));
      return {};
    }
    taskId = next.id;
    history.replaceState(null, "", `#/tasks/${taskId}`);
  }
  const task = await api.task(taskId);
  const [project, guide] = await Promise.all([
    api.project(task.project_id),
    api.guideline(task.project_id).catch((e) => { if (e.status === 404) return null; throw e; }),
  ]);
  crumbs(["Projects", "#/"], [project.name, `#/projects/${project.id}`], [`Task ${task.key}`]);
  const mine = task.annotations.find((a) => a.author_id === user.id && a.source === "human") || null;
  const preds = task.annotations.filter((a) => a.source === "model")
    .flatMap((a) => a.regions.map((r) => ({ ...r, model: a.model, model_version: a.model_version })));
  const events = mine && mine.status === "rejected" ? await api.taskEvents(task.id) : [];
  let feedback = events.filter((e) => e.kind === "annotation.reviewed" && e.annotation_id === mine.id && !e.data.accepted).slice(-1);
  if (mine && mine.status === "rejected") {
    // In a workflow project the rework assignment carries the reviewer's verdicts per region.
    const held = await api.assignment(task.id).catch((e) => { if (e.status === 404 || e.status === 409) return null; throw e; });
    if (held && held.mode === "rework") {
      feedback = [{ data: { comment: held.note || "", regions: held.comments.filter((c) => !c.accept) } }];
    }
  }
  const locked = mine && ["submitted", "accepted"].includes(mine.status);

  const status = h("span", { id: "save-status", class: "status" }, mine ? mine.status : "new");
  const drafts = new DraftStore({ userId: user.id, taskId: task.id, annotation: mine, onStatus: (s) => { status.textContent = s; } });
  const { regions: start, restored } = drafts.restore(mine ? mine.regions : []);
  if (restored) status.textContent = "restored unsaved edits";

  const side = h("aside", { class: "side" });
  const guidePane = h("section", { class: "guideline", id: "guideline" },
    h("h2", {}, guide ? `Guidelines v${guide.version}` : "Guidelines"), h("div", { class: "md" }));
  if (guide) guidePane.querySelector(".md").innerHTML = markdown(guide.text);
  else guidePane.querySelector(".md").textContent = "No guidelines published for this project.";

  const submitBtn = h("button", { type: "button", class: "primary", id: "submit", disabled: locked }, "Submit");
  const skipBtn = h("button", { type: "button", id: "skip", disabled: locked }, "Skip");
  const bar = h("div", { class: "taskbar" }, status, h("span", { class: "spacer" }), skipBtn, submitBtn);

  let editor;
  const kind = task.item.kind || "image";
  const work = h("div", { class: "work" });
  root.append(h("div", { class: "annotate" }, h("div", { class: "center" }, bar, work), side));

  const changed = () => { if (!locked) drafts.change(editor.regions); refreshPanel(); };
  if (kind === "text") {
    editor = new TextEditor(work, { schema: project.label_schema, text: task.item.text || "", settings: project.settings,
      readOnly: locked, onChange: changed, onSelect: () => refreshPanel() });
    editor.setRegions(start);
  } else {
    const canvas = h("canvas", { id: "canvas", tabindex: 0, "aria-label": "Image to annotate" });
    const tools = h("div", { class: "tools", role: "toolbar" }, TOOL_BUTTONS.map(([name, text, key]) =>
      h("button", { type: "button", dataset: { tool: name }, title: `${text} (${key})`, onclick: () => setTool(name) }, text, h("kbd", {}, key))),
    h("button", { type: "button", title: "Fit (0)", onclick: () => editor.fit() }, "Fit"));
    work.append(tools, canvas);
    const imgP = loadImage(api.mediaUrl(task.id));
    const img = await imgP;
    editor = new Editor(canvas, {
      schema: project.label_schema, width: task.item.width || img.naturalWidth, height: task.item.height || img.naturalHeight,
      image: img, readOnly: locked, onChange: changed, onSelect: () => refreshPanel(),
    });
    editor.setRegions(start, locked ? [] : untaken(preds, start));
    editor.fit();
    editor.draw();
    editor.pins = parsePins(feedback);
  }
  const setTool = (name) => {
    editor.setTool(name);
    root.querySelectorAll(".tools button[data-tool]").forEach((b) => b.classList.toggle("active", b.dataset.tool === name));
  };
  if (kind !== "text") setTool(editor.toolName);

  function refreshPanel() {
    side.replaceChildren(
      labelPanel(project.label_schema, editor, (label) => { editor.label = label; editor.relabelSelected?.(label); refreshPanel(); }),
      attributesForm(project.label_schema, editor),
      feedback.length ? feedbackList(feedback, editor) : "",
      editor.predictions && editor.predictions.length ? h("section", { class: "preds" },
        h("h2", {}, `Model predictions (${editor.predictions.length})`),
        h("p", { class: "muted" }, [...new Set(editor.predictions.map((p) => `${p.model || "model"}${p.model_version ? " v" + p.model_version : ""}`))].join(", ")),
        h("p", { class: "muted" }, "Dashed. Press a to accept the selected one (or all), or drag one to accept it edited."),
        h("button", { type: "button", id: "accept-all", onclick: () => { editor.acceptPrediction(-1); } }, "Accept all")) : "",
      guidePane);
  }
  refreshPanel();

  const submit = async () => {
    if (locked) return;
    submitBtn.disabled = true;
    try {
      await drafts.submit(editor.regions);
      go(`#/projects/${project.id}/label`);
    } finally {
      submitBtn.disabled = false;
    }
  };
  submitBtn.addEventListener("click", submit);
  skipBtn.addEventListener("click", async () => {
    await drafts.flush().catch(() => {});
    await api.skipTask(task.id, "");
    localStorage.removeItem(drafts.key);
    go(`#/projects/${project.id}/label`);
  });

  const nudge = (e, key) => {
    if (!editor.translateSelected) return;
    const shift = key.startsWith("Shift");
    const dir = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[key.replace("Shift+", "")];
    if (editor.selected >= 0) {
      const step = shift ? 10 : 1;
      editor.translateSelected(dir[0] * step, dir[1] * step);
    } else {
      const step = shift ? 1 : 8; // screen pixels
      editor.moveCursor(dir[0] * step, dir[1] * step);
    }
  };
  const unbind = bindShortcuts([kind === "text" ? "text" : "annotate"], {
    label: (e, key) => {
      const c = (project.label_schema.classes || [])[Number(key) - 1];
      if (!c) return;
      editor.label = c.name;
      if (editor.labelSelection) editor.labelSelection(c.name);
      else editor.relabelSelected(c.name);
      refreshPanel();
    },
    "tool.box": () => setTool("box"),
    "tool.polygon": () => setTool("polygon"),
    "tool.rotated": () => setTool("rotated"),
    "tool.brush": () => setTool("brush"),
    "tool.eraser": () => setTool("eraser"),
    "brush-size": (e, key) => {
      for (const t of [editor.tools.brush, editor.tools.eraser]) t.radius = Math.max(1, Math.min(200, t.radius * (key === ">" ? 1.25 : 0.8)));
    },
    rotate: (e, key) => editor.rotateSelected?.({ "[": -1, "]": 1, "{": -15, "}": 15 }[key]),
    "tool.keypoints": () => setTool("keypoints"),
    "tool.select": () => setTool("select"),
    classify: () => editor.toggleClassification(editor.label),
    delete: () => {
      const g = editor.selectedRegion?.()?.geometry;
      if (g && g.points && editor.vertex >= 0 && editor.deleteVertex) editor.deleteVertex();
      else editor.deleteSelected();
    },
    undo: () => editor.undo(),
    redo: () => editor.redo(),
    nudge,
    "next-region": () => editor.cycle?.(1),
    "prev-region": () => editor.cycle?.(-1),
    "accept-prediction": () => editor.acceptPrediction(editor.selPred),
    place: () => editor.placeAtCursor?.(),
    finish: () => editor.tool?.finish?.(editor),
    cancel: () => { if (editor.draft) { editor.draft = null; editor.requestDraw(); } else editor.select(-1); },
    fit: () => editor.fit(),
    "zoom-in": () => editor.zoom(1.25),
    "zoom-out": () => editor.zoom(0.8),
    submit,
    save: () => drafts.flush(),
    help: toggleHelp,
  });

  const onUnload = () => { if (drafts.pending) drafts._writeLocal(drafts.pending, true); };
  window.addEventListener("beforeunload", onUnload);
  window.__lg.editor = editor;
  window.__lg.drafts = drafts;
  window.__lg.task = task;
  requestAnimationFrame(() => {
    window.__lg.timing.interactive = performance.now();
    window.__lg.timing.ms = window.__lg.timing.interactive - t0;
    document.body.dataset.ready = String(task.id);
  });
  return {
    async leave() {
      unbind();
      window.removeEventListener("beforeunload", onUnload);
      if (!locked) await drafts.flush().catch(() => {});
      drafts.dispose();
      editor.destroy?.();
    },
  };
}

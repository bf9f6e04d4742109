// Project settings for managers: label schema, project settings, guideline versions, media upload
// and annotation import (background job) with progress.

import * as api from "../api.js";
import { h, markdown } from "../dom.js";

function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

function result() {
  return h("p", { class: "result", role: "status" });
}

async function waitJob(job, bar) {
  for (let j = job; ; j = await api.job(job.id)) {
    bar.max = j.total || 1;
    bar.value = j.total ? j.done : j.status === "succeeded" ? 1 : 0;
    if (j.status === "succeeded" || j.status === "failed") return j;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function show(root, { params: [pid], crumbs }) {
  let p = await api.project(pid);
  crumbs(["Projects", "#/"], [p.name, `#/projects/${pid}`], ["Settings"]);
  let guide = null;
  try { guide = await api.guideline(pid); } catch (e) { if (e.status !== 404) throw e; }

  const schemaBox = h("textarea", { id: "schema-json", rows: 14, spellcheck: "false" }, JSON.stringify(p.label_schema, null, 2));
  const schemaOut = result();
  const saveSchema = async () => {
    try {
      p = await api.updateProject(pid, { label_schema: JSON.parse(schemaBox.value) });
      schemaOut.textContent = `Saved: ${(p.label_schema.classes || []).length} classes.`;
    } catch (e) { schemaOut.textContent = e.message; }
  };

  const blind = h("input", { type: "checkbox", name: "blind", checked: p.settings.blind });
  const overlap = h("input", { type: "number", name: "overlap", min: 1, value: p.settings.overlap });
  const settingsOut = result();
  const saveSettings = async () => {
    try {
      p = await api.updateProject(pid, { settings: { blind: blind.checked, overlap: Number(overlap.value) } });
      settingsOut.textContent = "Saved.";
    } catch (e) { settingsOut.textContent = e.message; }
  };

  const guideBox = h("textarea", { id: "guideline-text", rows: 10 }, guide ? guide.text : "");
  const preview = h("div", { class: "md" });
  const guideOut = result();
  const renderPreview = () => { preview.innerHTML = markdown(guideBox.value); };
  guideBox.addEventListener("input", renderPreview);
  renderPreview();
  const publish = async () => {
    try {
      guide = await api.addGuideline(pid, guideBox.value);
      guideOut.textContent = `Published as version ${guide.version}.`;
    } catch (e) { guideOut.textContent = e.message; }
  };

  const mediaFile = h("input", { type: "file", id: "media-file", accept: "image/*,.zip,.tar,.tar.gz,.tgz" });
  const mediaBar = h("progress", { max: 1, value: 0, id: "media-progress" });
  const mediaOut = result();
  mediaOut.id = "media-result";
  const uploadMedia = async () => {
    const f = mediaFile.files[0];
    if (!f) return;
    try {
      const r = await api.uploadMedia(pid, f, (done, total) => { mediaBar.max = total; mediaBar.value = done; });
      mediaOut.textContent = `${r.files} files, ${r.new_tasks} new tasks` + (r.skipped.length ? `, skipped: ${r.skipped.join(", ")}` : "");
    } catch (e) { mediaOut.textContent = e.message; }
  };

  const annFile = h("input", { type: "file", id: "import-file" });
  const fmt = h("select", { name: "format" }, h("option", { value: "" }, "detect"),
    ["native", "coco", "voc", "yolo", "cvat", "label_studio", "conll", "spans_jsonl"].map((f) => h("option", {}, f)));
  const kind = h("select", { name: "kind" }, h("option", { value: "annotations" }, "annotations"), h("option", { value: "predictions" }, "model predictions"));
  const model = h("input", { name: "model", placeholder: "model name" });
  const version = h("input", { name: "model_version", placeholder: "version" });
  const importBar = h("progress", { max: 1, value: 0, id: "import-progress" });
  const importOut = result();
  importOut.id = "import-result";
  const importsList = h("div", {});
  const refreshImports = async () => {
    const list = await api.imports(pid);
    importsList.replaceChildren(h("table", {}, h("tr", {}, ["file", "format", "kind", "model", "tasks", "annotations"].map((x) => h("th", {}, x))),
      list.map((r) => h("tr", {}, [r.filename, r.format, r.kind, r.model ? `${r.model} ${r.model_version || ""}` : "", r.n_tasks, r.n_annotations]
        .map((x) => h("td", {}, String(x)))))));
  };
  const startImport = async () => {
    const f = annFile.files[0];
    if (!f) return;
    try {
      const job = await api.importInBackground(pid, f, { format: fmt.value, kind: kind.value, model: model.value, modelVersion: version.value });
      const done = await waitJob(job, importBar);
      importOut.textContent = done.status === "succeeded"
        ? `Imported: ${done.result ? `${done.result.n_tasks} tasks, ${done.result.n_annotations} annotations` : "done"}` : `Refused: ${done.error}`;
      await refreshImports();
    } catch (e) { importOut.textContent = e.message; }
  };
  await refreshImports();

  root.append(h("h1", {}, `Settings — ${p.name}`), h("div", { class: "columns" },
    section("Label schema", schemaBox, h("div", {}, h("button", { type: "button", id: "save-schema", onclick: saveSchema }, "Save schema")), schemaOut),
    section(guide ? `Guidelines (current: v${guide.version})` : "Guidelines", guideBox,
      h("div", {}, h("button", { type: "button", id: "publish-guideline", onclick: publish }, "Publish new version")), guideOut, preview)),
  h("div", { class: "columns" },
    section("Project", h("label", {}, blind, " Blind (annotators do not see each other's work)"), h("br"),
      h("label", {}, "Overlap (annotators per task) ", overlap), h("div", {}, h("button", { type: "button", onclick: saveSettings }, "Save")), settingsOut),
    section("Media", h("p", { class: "muted" }, "Images, or a zip/tar archive of images; each new image becomes a task."),
      mediaFile, " ", h("button", { type: "button", id: "upload-media", onclick: uploadMedia }, "Upload"), " ", mediaBar, mediaOut)),
  section("Import annotations", h("div", { class: "actions" }, annFile, fmt, kind, model, version,
    h("button", { type: "button", id: "start-import", onclick: startImport }, "Import"), importBar), importOut, importsList));
  document.body.dataset.ready = `settings-${pid}`;
  return {};
}

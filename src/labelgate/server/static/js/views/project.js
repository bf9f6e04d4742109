// One project: start labelling, review, dashboard, export with progress, schema and guidelines.

import * as api from "../api.js";
import { h, markdown } from "../dom.js";

const RANK = { annotator: 1, reviewer: 2, manager: 3, admin: 4 };

export async function show(root, { params: [pid], user, crumbs }) {
  const p = await api.project(pid);
  crumbs(["Projects", "#/"], [p.name]);
  const rank = user.is_superuser ? 9 : RANK[p.role] || 0;
  const page = await api.tasks(pid, 0, 1);
  let guide = null;
  try { guide = await api.guideline(pid); } catch (e) { if (e.status !== 404) throw e; }

  const actions = h("div", { class: "actions" },
    h("a", { class: "button primary", href: `#/projects/${pid}/label`, id: "start-labelling" }, "Start labelling"),
    rank >= 2 ? h("a", { class: "button", href: `#/projects/${pid}/review` }, "Review") : null,
    rank >= 3 ? h("a", { class: "button", href: `#/projects/${pid}/dashboard` }, "Dashboard") : null,
    rank >= 2 ? h("a", { class: "button", href: `#/projects/${pid}/adjudicate` }, "Adjudicate") : null,
    rank >= 3 ? h("a", { class: "button", href: `#/projects/${pid}/settings`, id: "project-settings" }, "Settings") : null);

  const classes = (p.label_schema.classes || []).map((c, i) => h("li", {}, h("kbd", {}, i < 9 ? String(i + 1) : ""), " ", c.name,
    c.attributes && c.attributes.length ? h("span", { class: "muted" }, ` (${c.attributes.map((a) => a.name).join(", ")})`) : null));

  root.append(h("h1", {}, p.name), h("p", { class: "muted" }, p.description || ""), actions,
    h("div", { class: "columns" },
      h("section", { class: "card" }, h("h2", {}, "Tasks"), h("p", {}, `${page.total} tasks`),
        h("h2", {}, "Label schema"), h("ul", { class: "classes" }, classes),
        h("h2", {}, "Settings"), h("p", {}, `Overlap ${p.settings.overlap} · ${p.settings.blind ? "blind" : "not blind"}`)),
      h("section", { class: "card guideline" }, h("h2", {}, guide ? `Guidelines v${guide.version}` : "Guidelines"),
        guide ? h("div", { class: "md" }) : h("p", { class: "muted" }, "No guidelines published yet."))));
  if (guide) root.querySelector(".guideline .md").innerHTML = markdown(guide.text);
  if (rank >= 3) root.append(exportPanel(pid));
  return {};
}

function exportPanel(pid) {
  const fmt = h("select", { name: "format" }, ["native", "coco", "voc", "yolo", "cvat", "label_studio"].map((f) => h("option", {}, f)));
  const filter = h("select", { name: "filter" }, ["accepted", "submitted", "latest", "all"].map((f) => h("option", {}, f)));
  const bar = h("progress", { max: 1, value: 0 });
  const out = h("div", { class: "exports" });
  const refresh = async () => {
    const list = await api.exports(pid);
    out.replaceChildren(h("table", {}, h("tr", {}, h("th", {}, "v"), h("th", {}, "format"), h("th", {}, "filter"), h("th", {}, "status"), h("th", {}, "")),
      list.map((x) => h("tr", {}, h("td", {}, x.version), h("td", {}, x.format), h("td", {}, x.filter), h("td", {}, x.status),
        h("td", {}, x.status === "succeeded" ? h("a", { href: api.exportDownloadUrl(x.id) }, "download") : "")))));
  };
  const start = async (e) => {
    e.preventDefault();
    const { job } = await api.startExport(pid, fmt.value, filter.value);
    for (let j = job; ; j = await api.job(job.id)) {
      bar.max = j.total || 1;
      bar.value = j.done;
      if (j.status === "succeeded" || j.status === "failed") break;
      await new Promise((r) => setTimeout(r, 300));
    }
    await refresh();
  };
  refresh();
  return h("section", { class: "card" }, h("h2", {}, "Export"),
    h("form", { onsubmit: start }, fmt, " ", filter, " ", h("button", { type: "submit" }, "Export"), " ", bar), out);
}

// The projects you are a member of.

import * as api from "../api.js";
import { h } from "../dom.js";

export async function show(root, { crumbs }) {
  crumbs(["Projects"]);
  const list = await api.projects();
  root.append(h("h1", {}, "Projects"));
  if (!list.length) {
    root.append(h("p", { class: "muted" }, "You are not a member of any project yet. Ask a manager to add you."));
    return {};
  }
  root.append(h("div", { class: "grid" }, list.map((p) => h("a", { class: "card project", href: `#/projects/${p.id}` },
    h("h2", {}, p.name),
    h("p", { class: "muted" }, p.description || ""),
    h("p", {}, h("span", { class: "pill" }, p.role || "superuser"), " ",
      `${(p.label_schema.classes || []).length} classes`)))));
  return {};
}

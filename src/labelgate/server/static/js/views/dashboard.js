// Manager dashboard: progress (from the task list), and the quality API's agreement, annotator
// scorecards and most-confused class pairs as charts when the server provides them.

import * as api from "../api.js";
import { barChart } from "../charts.js";
import { h } from "../dom.js";

async function allTasks(pid) {
  const out = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await api.tasks(pid, offset, 1000);
    out.push(...page.tasks);
    if (out.length >= page.total || !page.tasks.length) return out;
  }
}

function chart(title, svg) {
  const el = h("section", { class: "card chart" }, h("h2", {}, title));
  el.insertAdjacentHTML("beforeend", svg);
  return el;
}

function missing(title, path, err) {
  return h("section", { class: "card chart" }, h("h2", {}, title),
    h("p", { class: "missing" }, err.status === 404 || err.status === 405
      ? `Not available: this server has no ${path} endpoint yet.` : `Could not load: ${err.message}`));
}

export async function show(root, { params: [pid], crumbs }) {
  const p = await api.project(pid);
  crumbs(["Projects", "#/"], [p.name, `#/projects/${pid}`], ["Dashboard"]);
  const tasks = await allTasks(pid);
  const done = tasks.filter((t) => t.completed).length;
  const started = tasks.filter((t) => t.n_submitted > 0 && !t.completed).length;
  const n = tasks.length || 1;
  const charts = h("div", { class: "charts" });
  root.append(h("h1", {}, `Dashboard — ${p.name}`),
    h("p", { id: "progress-text" }, `${done} of ${tasks.length} tasks complete, ${started} in progress (overlap ${p.settings.overlap}).`), charts);
  charts.append(chart("Progress", barChart([
    { label: "complete", value: done / n }, { label: "in progress", value: started / n },
    { label: "not started", value: (tasks.length - done - started) / n }], { format: (v) => `${Math.round(v * 100)}%` })));

  const panels = [
    ["Agreement by class", "/projects/{id}/quality/agreement", api.agreement,
      (d) => barChart((d.classes || []).map((c) => ({ label: c.name, value: c.value, lo: c.low, hi: c.high })), { title: d.metric || "" })],
    ["Annotator scorecards", "/projects/{id}/quality/scorecards", api.scorecards,
      (d) => barChart((d.annotators || d).map((a) => ({ label: a.annotator, value: a.gold_accuracy ?? a.agreement ?? 0 })), { title: "gold accuracy" })],
    ["Most-confused class pairs", "/projects/{id}/quality/confusion", api.confusion,
      (d) => barChart((d.pairs || d).map((x) => ({ label: `${x.a} ↔ ${x.b}`, value: x.count })), { max: Math.max(1, ...(d.pairs || d).map((x) => x.count)), format: (v) => String(v), color: "#dc2626" })],
  ];
  for (const [title, path, fn, draw] of panels) {
    try {
      charts.append(chart(title, draw(await fn(pid))));
    } catch (e) {
      charts.append(missing(title, path, e));
    }
  }
  document.body.dataset.ready = `dashboard-${pid}`;
  return {};
}

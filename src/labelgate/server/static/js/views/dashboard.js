// Manager dashboard: progress (from the task list); for projects with a workflow, the quality API's
// agreement (overall, by class, by guideline version, with intervals), annotator scorecards, the
// most-confused class pairs, gold and drift alerts, test-retest agreement on audits, and the export gate.

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

function chart(title, svg, id) {
  const el = h("section", { class: "card chart", id }, h("h2", {}, title));
  el.insertAdjacentHTML("beforeend", svg);
  return el;
}

const fmt2 = (v) => (v == null ? "–" : v.toFixed(2));
const kappaRow = (label, x) => ({ label, value: x.kappa ?? 0, lo: x.ci ? x.ci[0] : null, hi: x.ci ? x.ci[1] : null });

function qualityPanels(agreement, cards, confused, gate) {
  const out = [];
  const versions = Object.values(agreement.by_version || {});
  out.push(chart(`Agreement (${agreement.metric || "kappa"}, 95% interval)`, barChart([
    kappaRow("overall", agreement),
    ...versions.map((v) => kappaRow(v.version == null ? "no guideline" : `guidelines v${v.version}`, v))],
  { min: -1, max: 1, format: fmt2 }), "agreement-chart"));
  const classes = Object.entries(agreement.per_class || {});
  if (classes.length) {
    out.push(chart("Agreement by class (share of matched objects)", barChart(classes.map(([name, c]) => ({ label: name, value: c.agreement ?? 0 })),
      { format: fmt2, color: "#0d9488" })));
  }
  if (cards.length) {
    const graded = cards.filter((c) => c.gold && c.gold.graded);
    if (graded.length) {
      out.push(chart("Annotators: gold accuracy (95% interval)", barChart(graded.map((c) => ({
        label: c.member, value: c.gold.accuracy ?? 0, lo: c.gold.ci[0], hi: c.gold.ci[1] })), { format: fmt2, color: "#7c3aed" })));
    }
    out.push(chart("Annotators: agreement with peers (kappa)", barChart(cards.map((c) => kappaRow(c.member, c.agreement)),
      { min: -1, max: 1, format: fmt2, color: "#7c3aed" })));
    const alerts = cards.filter((c) => c.drift.flagged || c.drift.paused || c.drift.alarm_at != null || (c.gold && c.gold.verdict === "below"));
    out.push(h("section", { class: "card", id: "scorecards" }, h("h2", {}, "Scorecards"),
      h("table", { class: "compact" }, h("tr", {}, ["annotator", "submitted", "per hour", "rejection rate", "gold", "peer kappa", "retest kappa", "drift"].map((x) => h("th", {}, x))),
        cards.map((c) => h("tr", {}, [c.member, c.submitted, fmt2(c.throughput_per_hour), fmt2(c.rejection_rate),
          c.gold ? `${fmt2(c.gold.accuracy)} (${c.gold.correct}/${c.gold.graded})` : "–", fmt2(c.agreement.kappa),
          c.retest && c.retest.audits ? `${fmt2(c.retest.kappa)} (${c.retest.audits} audits)` : "–",
          c.drift.paused ? "paused" : c.drift.flagged ? "flagged" : c.drift.alarm_at != null ? "alarm" : "ok"].map((x) => h("td", {}, String(x)))))),
      alerts.length ? h("p", { class: "missing" }, `Alerts: ${alerts.map((c) => c.member).join(", ")}`) : ""));
  }
  if (confused.length) {
    out.push(chart("Most-confused class pairs", barChart(confused.map((x) => ({ label: `${x.a ?? "(missed)"} ↔ ${x.b ?? "(missed)"}`, value: x.count })),
      { max: Math.max(1, ...confused.map((x) => x.count)), format: String, color: "#dc2626" }), "confused-chart"));
  }
  if (gate) {
    out.push(h("section", { class: "card", id: "gate" }, h("h2", {}, "Export gate"),
      h("p", {}, gate.passed ? "Open: every threshold is met." : "Shut."),
      gate.reasons.length ? h("ul", {}, gate.reasons.map((r) => h("li", {}, r))) : ""));
  }
  return out;
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
  try {
    const [agreement, cards, confused, gate] = await Promise.all([api.agreement(pid), api.scorecards(pid), api.confused(pid), api.qualityGate(pid)]);
    charts.append(...qualityPanels(agreement, cards, confused, gate));
  } catch (e) {
    if (e.status !== 404) throw e;
    charts.append(h("section", { class: "card", id: "no-quality" }, h("h2", {}, "Quality"),
      h("p", { class: "muted" }, `No quality data: ${e.message}. Configure the project's workflow (overlap, gold, review stages) to measure agreement.`)));
  }
  document.body.dataset.ready = `dashboard-${pid}`;
  return {};
}

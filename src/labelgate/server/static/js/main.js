// Entry point: a hash router mapping each route to one view module, loaded on demand.

import * as api from "./api.js";
import { h } from "./dom.js";
import { bindShortcuts, toggleHelp } from "./shortcuts.js";

const ROUTES = [
  [/^#\/login$/, "login"],
  [/^#\/?$/, "projects"],
  [/^#\/projects\/(\d+)$/, "project"],
  [/^#\/projects\/(\d+)\/label$/, "annotate"],
  [/^#\/tasks\/(\d+)$/, "annotate"],
  [/^#\/projects\/(\d+)\/review$/, "review"],
  [/^#\/tasks\/(\d+)\/review$/, "review"],
  [/^#\/tasks\/(\d+)\/adjudicate$/, "adjudicate"],
  [/^#\/projects\/(\d+)\/adjudicate$/, "adjudicate"],
  [/^#\/projects\/(\d+)\/dashboard$/, "dashboard"],
  [/^#\/projects\/(\d+)\/settings$/, "settings"],
];

const state = { user: null, view: null };
window.__lg = window.__lg || {};

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

export function crumbs(...parts) {
  const nav = document.getElementById("crumbs");
  nav.replaceChildren(...parts.flatMap(([text, href], i) => [i ? " / " : "", href ? h("a", { href }, text) : h("span", {}, text)]));
}

export async function currentUser() {
  if (!state.user) state.user = await api.me();
  return state.user;
}

async function route() {
  const hash = location.hash || "#/";
  delete document.body.dataset.ready; // views set it again once they are interactive
  if (state.view && state.view.leave) await state.view.leave();
  state.view = null;
  const root = document.getElementById("app");
  if (hash !== "#/login") {
    try {
      await currentUser();
    } catch (e) {
      if (e.status === 401) return go("#/login");
      throw e;
    }
    document.getElementById("whoami").replaceChildren(
      h("span", {}, state.user.username), " ",
      h("button", { type: "button", onclick: async () => { await api.logout(); state.user = null; go("#/login"); } }, "Log out"));
  }
  for (const [re, name] of ROUTES) {
    const m = re.exec(hash.split("?")[0]);
    if (!m) continue;
    const mod = await import(`./views/${name}.js`);
    root.replaceChildren();
    document.body.dataset.view = name;
    state.view = await mod.show(root, { params: m.slice(1).map(Number), hash, user: state.user, go, crumbs });
    return;
  }
  root.replaceChildren(h("p", {}, "No such page. ", h("a", { href: "#/" }, "Projects")));
}

export function setUser(u) { state.user = u; }

window.addEventListener("hashchange", () => route().catch(showError));
window.addEventListener("unhandledrejection", (e) => showError(e.reason));
document.getElementById("help-btn").addEventListener("click", toggleHelp);
bindShortcuts(["global"], {
  help: toggleHelp,
  cancel: () => document.getElementById("shortcut-help")?.remove(),
});

function showError(e) {
  const msg = e && e.message ? e.message : String(e);
  const box = document.getElementById("error-bar") || document.body.appendChild(h("div", { id: "error-bar", role: "alert" }));
  box.textContent = msg;
  setTimeout(() => box.remove(), 6000);
}

route().catch(showError);

// Login: username and password; the server sets an HTTP-only session cookie.

import * as api from "../api.js";
import { h } from "../dom.js";
import { setUser } from "../main.js";

export function show(root, { go, crumbs }) {
  crumbs(["Log in"]);
  const err = h("p", { class: "error", role: "alert" });
  const user = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "card login", onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = "";
    try {
      setUser(await api.login(user.value, pass.value));
      go("#/");
    } catch (ex) {
      err.textContent = ex.message;
    }
  } },
  h("h1", {}, "Log in to Labelgate"),
  h("label", {}, "Username", user), h("label", {}, "Password", pass),
  h("button", { type: "submit", class: "primary" }, "Log in"), err);
  root.append(form);
  user.focus();
  return {};
}

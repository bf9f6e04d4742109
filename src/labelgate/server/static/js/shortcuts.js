// Every keyboard shortcut of the UI, in one table. Views bind handlers to the action names; the
// overlay (`?`) lists this table, so what is documented is exactly what is bound.

export const SHORTCUTS = [
  // scope, keys (KeyboardEvent.key, with "Ctrl+"/"Shift+" prefixes), action, description
  ["global", ["?"], "help", "Show or hide this list of shortcuts"],
  ["global", ["Escape"], "cancel", "Close this list"],
  ["annotate", ["Escape"], "cancel", "Drop the shape being drawn, else deselect (also leaves a form field)"],
  ["annotate", ["1", "2", "3", "4", "5", "6", "7", "8", "9"], "label", "Pick the label for the next region (1-9); relabels the selected region"],
  ["annotate", ["b"], "tool.box", "Box tool: drag to draw, drag a box to move it, drag a handle to resize"],
  ["annotate", ["o"], "tool.rotated", "Rotated box tool: drag to draw; drag the round handle to turn, a corner to resize"],
  ["annotate", ["[", "]"], "rotate", "Turn the selected rotated box 1 degree anticlockwise / clockwise"],
  ["annotate", ["{", "}"], "rotate", "Turn it 15 degrees"],
  ["annotate", ["m"], "tool.brush", "Brush: paint a mask with the current label (adds to the selected mask of that label)"],
  ["annotate", ["e"], "tool.eraser", "Eraser: remove paint from the selected mask"],
  ["annotate", ["<", ">"], "brush-size", "Smaller / larger brush"],
  ["annotate", ["p"], "tool.polygon", "Polygon tool: click vertices, Enter or click the first vertex to close"],
  ["annotate", ["k"], "tool.keypoints", "Keypoints tool: click each point of the class's skeleton in order"],
  ["annotate", ["v"], "tool.select", "Select tool: click to select, drag to move, drag vertices"],
  ["annotate", ["c"], "classify", "Toggle a whole-item classification with the current label"],
  ["annotate", ["Delete", "Backspace"], "delete", "Delete the selected region (or the selected vertex)"],
  ["annotate", ["Ctrl+z"], "undo", "Undo"],
  ["annotate", ["Ctrl+Shift+z", "Ctrl+y"], "redo", "Redo"],
  ["annotate", ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"], "nudge",
    "Move the selected region 1 px; with nothing selected, move the keyboard cursor (+)"],
  ["annotate", ["Shift+ArrowLeft", "Shift+ArrowRight", "Shift+ArrowUp", "Shift+ArrowDown"], "nudge",
    "Move the selected region 10 px, or the keyboard cursor finely"],
  ["annotate", ["."], "place", "Press at the keyboard cursor: box corner, polygon vertex, keypoint"],
  ["annotate", ["Tab"], "next-region", "Select the next region"],
  ["annotate", ["Shift+Tab"], "prev-region", "Select the previous region"],
  ["annotate", ["a"], "accept-prediction", "Accept the selected model prediction (or all of them if none is selected)"],
  ["annotate", ["Enter"], "finish", "Finish the polygon / keypoints being drawn"],
  ["annotate", ["0"], "fit", "Fit the image to the window"],
  ["annotate", ["+", "="], "zoom-in", "Zoom in"],
  ["annotate", ["-"], "zoom-out", "Zoom out"],
  ["annotate", ["Ctrl+Enter"], "submit", "Submit the task and take the next one"],
  ["annotate", ["Ctrl+s"], "save", "Save the draft now (drafts also save by themselves)"],
  ["text", ["Escape"], "cancel", "Deselect the span (also leaves a form field)"],
  ["text", ["1", "2", "3", "4", "5", "6", "7", "8", "9"], "label", "Pick label 1-9; with text selected, label it"],
  ["text", ["Delete", "Backspace"], "delete", "Delete the selected span"],
  ["text", ["c"], "classify", "Toggle the document class with the current label"],
  ["text", ["Ctrl+z"], "undo", "Undo"],
  ["text", ["Ctrl+Shift+z", "Ctrl+y"], "redo", "Redo"],
  ["text", ["Ctrl+Enter"], "submit", "Submit the task and take the next one"],
  ["review", ["a"], "accept-task", "Accept the annotation"],
  ["review", ["r"], "reject-task", "Reject the annotation (a comment is asked for)"],
  ["review", ["x"], "reject-region", "Reject the selected region with a comment pinned to it"],
  ["review", ["y"], "accept-region", "Accept the selected region (workflow projects)"],
  ["review", ["Tab"], "next-region", "Select the next region"],
];

// Pointer gestures are listed in the overlay beside the keys.
export const GESTURES = [
  ["Wheel", "Zoom around the pointer"],
  ["Space + drag, or middle-button drag", "Pan"],
  ["Double-click a polygon edge", "Insert a vertex"],
  ["Alt + click a vertex", "Delete that vertex"],
];

function keyName(e) {
  let k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (e.key === "?") k = "?";
  const mods = [];
  if (e.ctrlKey || e.metaKey) mods.push("Ctrl");
  if (e.shiftKey && e.key.length !== 1) mods.push("Shift");
  if (e.shiftKey && e.key.length === 1 && /[a-z]/i.test(e.key) && mods.length) mods.push("Shift");
  return [...mods, k].join("+");
}

/** Bind `handlers` ({action: (event, key) => void}) for `scopes`; returns an unbind function. */
export function bindShortcuts(scopes, handlers) {
  const table = new Map();
  for (const [scope, keys, action] of SHORTCUTS) {
    if (!scopes.includes(scope)) continue;
    for (const key of keys) if (!table.has(key)) table.set(key, action);
  }
  const onKey = (e) => {
    const t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) {
      if (e.key !== "Escape") return;
      t.blur();
    }
    const name = keyName(e);
    const action = table.get(name);
    if (!action || !handlers[action]) return;
    e.preventDefault();
    handlers[action](e, name);
  };
  window.addEventListener("keydown", onKey);
  return () => window.removeEventListener("keydown", onKey);
}

/** The overlay listing the table (toggled by `?`). */
export function toggleHelp() {
  let el = document.getElementById("shortcut-help");
  if (el) {
    el.remove();
    return;
  }
  el = document.createElement("div");
  el.id = "shortcut-help";
  el.className = "overlay";
  el.setAttribute("role", "dialog");
  el.setAttribute("aria-label", "Keyboard shortcuts");
  const rows = [];
  let last = null;
  for (const [scope, keys, , text] of SHORTCUTS) {
    if (scope !== last) rows.push(`<tr><th colspan="2">${scope}</th></tr>`);
    last = scope;
    rows.push(`<tr><td>${keys.map((k) => `<kbd>${k}</kbd>`).join(" ")}</td><td>${text}</td></tr>`);
  }
  rows.push(`<tr><th colspan="2">pointer</th></tr>`);
  for (const [g, text] of GESTURES) rows.push(`<tr><td><kbd>${g}</kbd></td><td>${text}</td></tr>`);
  el.innerHTML = `<div class="overlay-box"><h2>Keyboard shortcuts</h2><table>${rows.join("")}</table>
    <p class="muted">Press <kbd>?</kbd> or <kbd>Escape</kbd> to close.</p></div>`;
  el.addEventListener("click", (e) => { if (e.target === el) el.remove(); });
  document.body.append(el);
}

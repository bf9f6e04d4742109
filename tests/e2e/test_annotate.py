"""The annotator's path in a real browser: log in, take the next task, draw boxes with label
hotkeys, edit one, submit; the stored annotation holds exactly those boxes. A reload in the
middle of a task restores the draft."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import shot
from tests.e2e.live import Live, image_project, login, member

pytestmark = pytest.mark.browser


def to_screen(page: Any, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of image point (x, y) in the editor's current view."""
    sx, sy = page.evaluate(
        """([x, y]) => { const ed = window.__lg.editor; const r = ed.canvas.getBoundingClientRect();
             const [a, b] = ed.view.toScreen(x, y); return [r.left + a, r.top + b]; }""", [x, y])
    return float(sx), float(sy)


def drag(page: Any, a: tuple[float, float], b: tuple[float, float], steps: int = 5) -> None:
    page.mouse.move(*to_screen(page, *a))
    page.mouse.down()
    page.mouse.move(*to_screen(page, *b), steps=steps)
    page.mouse.up()


def regions(page: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = page.evaluate("window.__lg.editor.regions")
    return out


def wait_saved(page: Any) -> None:
    page.wait_for_function("window.__lg.drafts && window.__lg.drafts.pending == null && !window.__lg.drafts.inflight"
                           " && document.querySelector('#save-status').textContent === 'saved'")


def open_next_task(page: Any, live: Live, pid: int) -> int:
    page.goto(f"{live.url}/ui/#/projects/{pid}")
    page.click("#start-labelling")
    page.wait_for_function("document.body.dataset.ready && window.__lg.editor")
    return int(page.evaluate("window.__lg.task.id"))


def test_annotator_draws_edits_and_submits(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    admin = live.user(f"admin_{tag}", superuser=True)
    ann = live.user(f"ann_{tag}")
    pid = image_project(live, admin, tmp_path / "media", name=f"shelves {tag}")
    member(live, admin, pid, ann, "annotator")
    with live.client(admin) as c:
        c.add_guidelines(pid, "# Products\n- Box every **whole** product.\n- Price tags get their own box.")

    page.goto(f"{live.url}/ui/")
    page.wait_for_selector("input[name=username]")  # not logged in: the login view
    shot(page, "login")
    login(page, live.url, ann.username)
    page.wait_for_selector(".project")
    shot(page, "projects")
    page.goto(f"{live.url}/ui/#/projects/{pid}")
    page.wait_for_selector("#start-labelling")
    page.wait_for_selector(".guideline .md >> text=Box every")
    shot(page, "project")
    task_id = open_next_task(page, live, pid)
    assert page.text_content("#guideline h2") == "Guidelines v1"

    page.keyboard.press("1")
    drag(page, (100, 100), (200, 220))
    page.keyboard.press("2")
    drag(page, (300, 100), (360, 140))
    page.keyboard.press("1")
    drag(page, (500, 300), (640, 420))
    assert [r["label"] for r in regions(page)] == ["Product", "Price tag", "Product"]

    # edit the second box: select it, resize its south-east corner, nudge it right by 10 px
    page.mouse.click(*to_screen(page, 330, 120))
    drag(page, (360, 140), (380, 160))
    page.keyboard.press("Shift+ArrowRight")
    # undo and redo the nudge
    page.keyboard.press("Control+z")
    assert regions(page)[1]["geometry"]["x1"] == 300
    page.keyboard.press("Control+Shift+z")
    wait_saved(page)
    shot(page, "annotate")

    expected = regions(page)
    assert expected[1]["geometry"] == {"type": "box", "x1": 310, "y1": 100, "x2": 390, "y2": 160}
    page.keyboard.press("?")
    page.wait_for_selector("#shortcut-help")
    shot(page, "shortcuts")
    page.keyboard.press("Escape")

    page.click("#submit")
    page.wait_for_function(f"document.body.dataset.ready && window.__lg.task.id !== {task_id}")
    with live.client(admin) as c:
        stored = [a for a in c.task(task_id)["annotations"] if a["author_name"] == ann.username]
    assert len(stored) == 1 and stored[0]["status"] == "submitted"
    got = [(r["label"], r["geometry"]) for r in stored[0]["regions"]]
    assert got == [(r["label"], r["geometry"]) for r in expected]
    assert [r["geometry"] for r in stored[0]["regions"]] == [
        {"type": "box", "x1": 100, "y1": 100, "x2": 200, "y2": 220},
        {"type": "box", "x1": 310, "y1": 100, "x2": 390, "y2": 160},
        {"type": "box", "x1": 500, "y1": 300, "x2": 640, "y2": 420}]


def test_reload_restores_the_draft(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    admin = live.user(f"admin_{tag}", superuser=True)
    ann = live.user(f"ann_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=2, name=f"drafts {tag}")
    member(live, admin, pid, ann, "annotator")
    login(page, live.url, ann.username)
    task_id = open_next_task(page, live, pid)
    drag(page, (50, 60), (150, 160))
    wait_saved(page)
    drag(page, (400, 60), (450, 120))  # this one is reloaded before the debounced save
    before = regions(page)
    assert len(before) == 2
    page.reload()
    page.wait_for_function("document.body.dataset.ready && window.__lg.editor")
    assert page.evaluate("window.__lg.task.id") == task_id
    assert regions(page) == before
    wait_saved(page)
    # the server has both boxes too (the restored edit was sent on load)
    with live.client(admin) as c:
        mine = [a for a in c.task(task_id)["annotations"] if a["author_name"] == ann.username]
    assert [r["geometry"] for r in mine[0]["regions"]] == [r["geometry"] for r in before]
    assert mine[0]["status"] == "draft"


def test_keyboard_only_box(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    admin = live.user(f"admin_{tag}", superuser=True)
    ann = live.user(f"ann_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=1, name=f"keys {tag}")
    member(live, admin, pid, ann, "annotator")
    login(page, live.url, ann.username)
    open_next_task(page, live, pid)
    page.focus("#canvas")
    page.keyboard.press("2")
    page.keyboard.press(".")  # first corner at the centre of the view
    for _ in range(5):
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
    page.keyboard.press(".")
    (r,) = regions(page)
    scale = page.evaluate("window.__lg.editor.view.scale")
    g = r["geometry"]
    assert r["label"] == "Price tag"
    assert abs((g["x2"] - g["x1"]) - 40 / scale) < 0.02 and abs((g["y2"] - g["y1"]) - 40 / scale) < 0.02
    page.keyboard.press("Tab")  # select it, then nudge it with the arrows
    page.keyboard.press("ArrowLeft")
    assert regions(page)[0]["geometry"]["x1"] == round(g["x1"] - 1, 2)

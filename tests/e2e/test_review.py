"""The review loop in a real browser: an annotator submits three boxes; a reviewer rejects one
region with a comment pinned to it; the annotator sees the pin, fixes the box and resubmits; the
reviewer accepts; the export of accepted work holds exactly the final boxes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import shot
from tests.e2e.live import VIEWPORT, Live, image_project, login, member
from tests.e2e.test_annotate import drag, open_next_task, regions, to_screen, wait_saved

pytestmark = pytest.mark.browser


def test_reject_region_fix_accept_export(live: Live, browser: Any, page: Any, tag: str, tmp_path: Path) -> None:
    admin = live.user(f"admin_{tag}", superuser=True)
    ann = live.user(f"ann_{tag}")
    rev = live.user(f"rev_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=1, name=f"review {tag}")
    member(live, admin, pid, ann, "annotator")
    member(live, admin, pid, rev, "reviewer")

    login(page, live.url, ann.username)
    task_id = open_next_task(page, live, pid)
    for key, a, b in (("1", (100, 100), (200, 220)), ("2", (300, 100), (360, 140)), ("1", (500, 300), (640, 420))):
        page.keyboard.press(key)
        drag(page, a, b)
    page.click("#submit")
    page.wait_for_selector("text=No task left for you")

    rctx = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    rpage = rctx.new_page()
    login(rpage, live.url, rev.username)
    rpage.goto(f"{live.url}/ui/#/projects/{pid}/review")
    rpage.wait_for_selector(f"a[href^='#/tasks/{task_id}/review']")
    shot(rpage, "review-list")
    rpage.click(f"a[href^='#/tasks/{task_id}/review']")
    rpage.wait_for_function(f"document.body.dataset.ready === 'review-{task_id}'")
    rpage.mouse.click(*to_screen(rpage, 330, 120))
    rpage.fill("#region-comment", "too loose: the tag ends at x=340")
    rpage.click("#reject-region")
    rpage.wait_for_selector("#pending-pins")
    shot(rpage, "review")
    rpage.click("#reject")
    rpage.wait_for_selector("#review-status >> text=rejected")

    page.goto(f"{live.url}/ui/#/tasks/{task_id}")
    page.wait_for_function(f"document.body.dataset.ready === '{task_id}'")
    assert page.text_content("#save-status") == "rejected"
    page.wait_for_selector("#feedback >> text=too loose")
    assert page.evaluate("window.__lg.editor.pinPoints()") == [{"x": 300, "y": 100, "n": 1}]
    shot(page, "annotate-feedback")
    page.click("#feedback button")  # the pin's link selects its region
    assert page.evaluate("window.__lg.editor.selectedRegion().id") == 2
    drag(page, (360, 140), (340, 140))  # pull the east edge in
    wait_saved(page)
    fixed = regions(page)
    assert fixed[1]["geometry"] == {"type": "box", "x1": 300, "y1": 100, "x2": 340, "y2": 140}
    page.click("#submit")
    page.wait_for_selector("text=No task left for you")

    rpage.reload()
    rpage.wait_for_function(f"document.body.dataset.ready === 'review-{task_id}'")
    rpage.wait_for_selector("#review-status >> text=submitted")
    rpage.click("#accept")
    rpage.wait_for_selector("#review-status >> text=accepted")
    rctx.close()

    with live.client(admin) as c:
        c.export(pid, tmp_path / "export", format="native", filter="accepted")
    files = sorted(p for p in (tmp_path / "export").rglob("*.json") if p.name != "manifest.json")
    assert files, list((tmp_path / "export").rglob("*"))
    data = json.loads(files[0].read_text())
    anns = data["annotations"] if "annotations" in data else [a for it in data["items"] for a in it.get("annotations", [])]
    got = sorted((r["label"], tuple(r["geometry"][k] for k in ("x1", "y1", "x2", "y2"))) for a in anns for r in a["regions"])
    assert got == sorted((r["label"], tuple(r["geometry"][k] for k in ("x1", "y1", "x2", "y2"))) for r in fixed)
    assert len(got) == 3



def test_workflow_review_per_region(live: Live, browser: Any, page: Any, tag: str, tmp_path: Path) -> None:
    """A project with a review stage: the reviewer accepts one region and rejects another with a
    comment through the engine; the annotator's rework shows the pin; the fix is accepted."""
    admin = live.user(f"admin_{tag}", superuser=True)
    mgr = live.user(f"mgr_{tag}")
    ann = live.user(f"ann_{tag}")
    rev = live.user(f"rev_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=1, name=f"chain {tag}")
    for u, role in ((mgr, "manager"), (ann, "annotator"), (rev, "reviewer")):
        member(live, admin, pid, u, role)
    with live.client(mgr) as c:
        c.set_workflow(pid, {"stages": [{"name": "check", "role": "reviewer"}]})

    login(page, live.url, ann.username)
    task_id = open_next_task(page, live, pid)
    for key, a, b in (("1", (100, 100), (200, 220)), ("2", (300, 100), (360, 140))):
        page.keyboard.press(key)
        drag(page, a, b)
    page.click("#submit")
    page.wait_for_selector("text=No task left for you")

    rctx = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    rpage = rctx.new_page()
    login(rpage, live.url, rev.username)
    rpage.goto(f"{live.url}/ui/#/projects/{pid}/review")
    rpage.fill("#stage-name", "check")
    rpage.click("#review-next")
    rpage.wait_for_function(f"document.body.dataset.ready === 'review-{task_id}'")
    assert "stage check" in rpage.text_content("#review-status")
    rpage.mouse.click(*to_screen(rpage, 150, 160))
    rpage.click("#accept-region")
    rpage.mouse.click(*to_screen(rpage, 330, 120))
    rpage.fill("#region-comment", "that is not a price tag")
    rpage.click("#reject-region")
    shot(rpage, "review-workflow")
    rpage.click("#reject")
    rpage.wait_for_selector("#review-status >> text=task rework")

    assert open_next_task(page, live, pid) == task_id  # the rework comes back as the next task
    page.wait_for_selector("#feedback >> text=that is not a price tag")
    page.click("#feedback button")
    page.keyboard.press("3")  # relabel the rejected region
    page.click("#submit")
    page.wait_for_selector("text=No task left for you")

    rpage.goto(f"{live.url}/ui/#/projects/{pid}/review")
    rpage.fill("#stage-name", "check")
    rpage.click("#review-next")
    rpage.wait_for_function(f"document.body.dataset.ready === 'review-{task_id}'")
    rpage.click("#accept")
    rpage.wait_for_selector("#review-status >> text=task accepted")
    rctx.close()
    with live.client(admin) as c:
        final = next(a for a in c.task(task_id)["annotations"] if a["author_name"] == ann.username)
    assert final["status"] == "accepted"
    assert [r["label"] for r in final["regions"]] == ["Product", "Empty slot"]

"""Manager screens in a real browser: the dashboard's progress from the task list, and the
adjudication view with two annotators' versions side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import shot
from tests.e2e.live import Live, image_project, login, member

pytestmark = pytest.mark.browser


def test_dashboard_and_adjudication(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    admin = live.user(f"admin_{tag}", superuser=True)
    mgr = live.user(f"mgr_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=3, name=f"overlap {tag}")
    with live.client(admin) as c:
        c.update_project(pid, settings={"overlap": 2})
    member(live, admin, pid, mgr, "manager")
    task_id = None
    for k, dx in ((1, 0), (2, 14)):
        u = live.user(f"ann{k}_{tag}")
        member(live, admin, pid, u, "annotator")
        with live.client(u) as c:
            t = c.next_task(pid)
            assert t is not None
            task_id = t["id"]
            c.create_annotation(t["id"], [{"id": 1, "label": "Product", "geometry": {
                "type": "box", "x1": 100 + dx, "y1": 100, "x2": 220 + dx, "y2": 260}}], submit=True)
    login(page, live.url, mgr.username)
    page.goto(f"{live.url}/ui/#/projects/{pid}/dashboard")
    page.wait_for_function(f"document.body.dataset.ready === 'dashboard-{pid}'")
    assert page.text_content("#progress-text").startswith("1 of 3 tasks complete, 0 in progress")
    page.wait_for_selector("#no-quality")  # no workflow configured: no agreement data, said so
    page.goto(f"{live.url}/ui/#/tasks/{task_id}/adjudicate")
    page.wait_for_function(f"document.body.dataset.ready === 'adjudicate-{task_id}'")
    assert page.locator("#versions .version").count() == 2
    shot(page, "adjudicate-view-only")


def test_settings_guidelines_media_and_import(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    import json

    from labelgate.server.services import projects
    from tests.e2e.live import shelf_image

    admin = live.user(f"admin_{tag}", superuser=True)
    mgr = live.user(f"mgr_{tag}")
    p = projects.create_project(live.rt, admin, f"setup {tag}", "", {"classes": [{"name": "Product"}]})
    member(live, admin, p.id, mgr, "manager")
    shelf_image(tmp_path / "aisle7.png", 320, 200)
    coco = {"images": [{"id": 1, "file_name": "aisle7.png", "width": 320, "height": 200}],
            "categories": [{"id": 1, "name": "Product"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 80], "area": 4000,
                             "iscrowd": 0, "score": 0.7, "segmentation": []}]}
    (tmp_path / "preds.json").write_text(json.dumps(coco))

    login(page, live.url, mgr.username)
    page.goto(f"{live.url}/ui/#/projects/{p.id}")
    page.click("#project-settings")
    page.wait_for_function(f"document.body.dataset.ready === 'settings-{p.id}'")
    page.fill("#guideline-text", "# Products\n- Box **every** facing.")
    page.click("#publish-guideline")
    page.wait_for_selector("text=Published as version 1")
    page.set_input_files("#media-file", str(tmp_path / "aisle7.png"))
    page.click("#upload-media")
    page.wait_for_selector("#media-result >> text=1 new tasks")
    page.set_input_files("#import-file", str(tmp_path / "preds.json"))
    page.select_option("select[name=format]", "coco")
    page.select_option("select[name=kind]", "predictions")
    page.fill("input[name=model]", "detector")
    page.click("#start-import")
    page.wait_for_selector("#import-result >> text=Imported")
    shot(page, "settings")
    with live.client(admin) as c:
        (task,) = c.tasks(p.id)["tasks"]
        preds = [a for a in c.task(task["id"])["annotations"] if a["source"] == "model"]
        assert c.guidelines(p.id)["text"] == "# Products\n- Box **every** facing."
    assert task["key"] == "aisle7" and preds[0]["model"] == "detector" and len(preds[0]["regions"]) == 1


def test_dashboard_charts_agreement_scorecards_and_gate(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    admin = live.user(f"admin_{tag}", superuser=True)
    mgr = live.user(f"mgr_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=6, name=f"quality {tag}")
    member(live, admin, pid, mgr, "manager")
    with live.client(mgr) as c:
        c.set_workflow(pid, {"gate": {"min_agreement": 0.6}})
        c.publish_guideline(pid, "v1: box every product.", round_tasks=4, round_k=2)
    boxes = [("Product", (100, 100, 200, 220)), ("Price tag", (300, 100, 360, 140)), ("Product", (500, 300, 640, 420))]
    seen: set[str] = set()  # keys the first annotator labelled
    confused = False
    for k in (1, 2):
        u = live.user(f"ann{k}_{tag}")
        member(live, admin, pid, u, "annotator")
        with live.client(u) as c:
            for _ in range(4):
                t = c.next_task(pid)
                assert t is not None
                # the second annotator calls one price tag an empty slot, on the first task both label (which
                # tasks a user is served depends on the user's id, so no fixed key)
                swap = k == 2 and not confused and t["key"] in seen
                confused |= swap
                seen.add(t["key"])
                regions = [{"id": i + 1, "label": "Empty slot" if (swap and i == 1) else lab,
                            "geometry": {"type": "box", "x1": b[0], "y1": b[1], "x2": b[2], "y2": b[3]}}
                           for i, (lab, b) in enumerate(boxes)]
                c.submit(t["id"], regions)
    assert confused
    with live.client(mgr) as c:
        report = c.agreement(pid)
    login(page, live.url, mgr.username)
    page.goto(f"{live.url}/ui/#/projects/{pid}/dashboard")
    page.wait_for_function(f"document.body.dataset.ready === 'dashboard-{pid}'")
    assert report["kappa"] is not None
    assert f"{report['kappa']:.2f}" in page.text_content("#agreement-chart")
    assert page.locator("#scorecards tr").count() == 3  # header + two annotators
    assert "Empty slot" in page.text_content("#confused-chart")
    page.wait_for_selector("#gate")
    shot(page, "dashboard")


def test_adjudication_keeps_one_version(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    admin = live.user(f"admin_{tag}", superuser=True)
    mgr = live.user(f"mgr_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=1, name=f"adjudicate {tag}")
    member(live, admin, pid, mgr, "manager")
    with live.client(mgr) as c:
        c.set_workflow(pid, {"overlap": {"k": 2, "fraction": 1.0}, "adjudication": {"role": "manager", "threshold": 0.9}})
    answers = {}
    for k, box in ((1, (100, 100, 220, 260)), (2, (400, 300, 520, 460))):
        u = live.user(f"ann{k}_{tag}")
        member(live, admin, pid, u, "annotator")
        with live.client(u) as c:
            t = c.next_task(pid)
            assert t is not None
            regions = [{"id": 1, "label": "Product", "geometry": dict(zip(("x1", "y1", "x2", "y2"), box, strict=True), type="box")}]
            answers[u.username] = c.submit(t["id"], regions)
    login(page, live.url, mgr.username)
    page.goto(f"{live.url}/ui/#/projects/{pid}/adjudicate")
    page.wait_for_function(f"document.body.dataset.ready === 'adjudicate-{t['id']}'")
    # both versions side by side (the server's adjudication config offers no consensus proposal yet)
    assert page.locator("#versions .version").count() == 2
    assert page.locator("text=Adjudicating").count() == 1
    shot(page, "adjudicate")
    page.locator("#versions .version", has_text=f"ann2_{tag}").locator("button.keep").click()
    page.wait_for_selector("text=Nothing to adjudicate")
    with live.client(admin) as c:
        final = [a for a in c.task(t["id"])["annotations"] if a["author_name"] == mgr.username]
    assert len(final) == 1 and final[0]["status"] == "accepted"
    assert final[0]["regions"][0]["geometry"] == answers[f"ann2_{tag}"]["regions"][0]["geometry"]

"""A consistency audit in a real browser: the annotator's own earlier task comes back as an empty canvas
(no earlier answer to start from), drafts and submit work as on any task, and the answer is kept apart:
the first annotation is unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import shot
from tests.e2e.live import Live, image_project, login, member
from tests.e2e.test_annotate import drag, open_next_task, regions, wait_saved

pytestmark = pytest.mark.browser


def test_an_audit_opens_empty_and_leaves_the_first_answer(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    from labelgate.server.db.repos import audits as audits_repo
    from labelgate.server.services import projects

    admin = live.user(f"admin_{tag}", superuser=True)
    ann = live.user(f"ann_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=6, name=f"audits {tag}")
    member(live, admin, pid, ann, "annotator")
    projects.update_project(live.rt, admin, pid, settings={"blind": True})
    with live.client(admin) as c:
        c.set_workflow(pid, {"audits": {"rate": 0.5, "seed": 0, "min_gap": 1}})
    login(page, live.url, ann.username)

    first: dict[int, list[dict[str, Any]]] = {}
    task_id = open_next_task(page, live, pid)
    while task_id not in first:
        assert regions(page) == []
        drag(page, (100, 100), (200, 200))
        wait_saved(page)
        first[task_id] = regions(page)
        page.click("#submit")
        page.wait_for_function(f"document.body.dataset.ready && window.__lg.task && window.__lg.task.id !== {task_id}")
        task_id = int(page.evaluate("window.__lg.task.id"))
        assert len(first) < 6
    # the audit: the same task, an empty canvas
    page.wait_for_function("window.__lg.editor")
    assert regions(page) == []
    shot(page, "audit")
    drag(page, (300, 300), (420, 380))
    wait_saved(page)
    page.click("#submit")
    page.wait_for_function(f"document.body.dataset.ready && (!window.__lg.task || window.__lg.task.id !== {task_id})")

    with live.client(admin) as c:
        stored = [a for a in c.task(task_id)["annotations"] if a["author_name"] == ann.username]
    assert len(stored) == 1 and [r["geometry"] for r in stored[0]["regions"]] == [r["geometry"] for r in first[task_id]]
    with live.rt.db.read() as conn:
        # only this task's: the next task served may be another audit (slots depend on the user id)
        (audit,) = [a for a in audits_repo.of_project(conn, pid) if a.task_id == task_id]
    assert audit.status == "submitted" and audit.annotation_id == stored[0]["id"]
    assert [r["geometry"] for r in audit.regions or []] == [{"type": "box", "x1": 300, "y1": 300, "x2": 420, "y2": 380}]

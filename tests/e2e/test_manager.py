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
    shot(page, "dashboard")
    page.goto(f"{live.url}/ui/#/tasks/{task_id}/adjudicate")
    page.wait_for_function(f"document.body.dataset.ready === 'adjudicate-{task_id}'")
    assert page.locator("#versions .version").count() == 2
    shot(page, "adjudicate")

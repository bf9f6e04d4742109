"""``labelgate demo --no-serve`` builds a coherent project: images, members, work done and left."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from labelgate.cli.main import app
from labelgate.server import Runtime, Settings, create_app
from labelgate.server.services import annotations, auth, projects
from tests.integration.conftest import TestClient


def test_demo_builds_once_and_serves_real_pixels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELGATE_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("LABELGATE_ARGON2_MEMORY_KIB", "64")
    runner = CliRunner()
    args = ["demo", "--data-dir", str(tmp_path / "demo"), "--images", "6", "--no-serve"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "built project" in r.output and "demo-anna" in r.output and "http://127.0.0.1:8080/ui/" in r.output
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "found project" in r.output
    rt = Runtime.open(Settings.from_env().model_copy(update={"data_dir": tmp_path / "demo"}))
    try:
        anna, _ = auth.login(rt, "anna", "demo-anna", "test")
        (project,) = projects.list_projects(rt, anna)
        assert project.role is not None and project.role.value == "annotator" and project.overlap == 2
        tasks, total = annotations.list_tasks(rt, anna, project.id)
        assert total == 6
        done = [t for t in tasks if any(a.author_id == anna.id for a in annotations.get_task(rt, anna, t.id)[1])]
        assert len(done) == 4  # two thirds annotated by anna (and ben)
        nxt = annotations.next_task(rt, anna, project.id)
        assert nxt is not None and nxt.id not in {t.id for t in done}
        _, visible = annotations.get_task(rt, anna, nxt.id)
        assert [a.source for a in visible] == ["model"]  # predictions to start from; gold stays hidden
        _, token = auth.create_token(rt, anna, "t")
        with TestClient(create_app(runtime=rt)) as c:
            r = c.get(f"/api/v1/tasks/{nxt.id}/media", headers={"Authorization": f"Token {token}"})
            assert r.status_code == 200
            img = Image.open(io.BytesIO(r.content))
            assert img.size == (nxt.item["width"], nxt.item["height"]) == (640, 480)
            assert len(set(img.getdata())) > 10  # drawn shelves, not a blank canvas
    finally:
        rt.close()

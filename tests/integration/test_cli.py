"""``labelgate user|project`` on the local store and, with --url, against a live server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import uvicorn
from typer.testing import CliRunner

from labelgate import formats
from labelgate.cli.main import app
from labelgate.formats.native import dataset_to_dict
from labelgate.samples.shelf import shelf_dataset
from labelgate.server import Settings, create_app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LABELGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LABELGATE_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("LABELGATE_ARGON2_MEMORY_KIB", "64")
    path = tmp_path / "shelf.json"
    path.write_bytes(orjson.dumps(dataset_to_dict(shelf_dataset(3, seed=1)), option=orjson.OPT_SERIALIZE_NUMPY))
    return tmp_path


def _ok(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return r.output


def _text(args: list[str]) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(_ok(args).split())


def test_local_store_commands(env: Path) -> None:
    r = runner.invoke(app, ["project", "list"])
    assert r.exit_code == 1 and "labelgate user create NAME --superuser" in " ".join(r.output.split())
    _ok(["user", "create", "root", "--password", "root-password", "--superuser"])
    assert "already exists" in " ".join(runner.invoke(app, ["user", "create", "root", "--password", "xxxxxxxxxx"]).output.split())
    _ok(["project", "create", "shelves", "--labels", "Product,Price tag,Empty slot"])
    listed = orjson.loads(_ok(["project", "list", "--json"]))
    assert [p["name"] for p in listed] == ["shelves"]
    out = _text(["project", "import", "shelves", str(env / "shelf.json")])
    assert "3 new tasks, 12 annotations" in out
    assert "already imported" in _text(["project", "import", "shelves", str(env / "shelf.json")])
    out = _text(["project", "export", "shelves", str(env / "out"), "--filter", "submitted"])
    assert "export v1" in out
    back = formats.read(env / "out" / "dataset.json", "native")
    assert len(back.items) == 3 and len(back.annotations) == 6
    bad = runner.invoke(app, ["project", "export", "shelves", str(env / "x"), "--format", "nope"])
    assert bad.exit_code == 1 and "unknown export format" in " ".join(bad.output.split())


@pytest.fixture
def live(env: Path) -> Iterator[tuple[str, str]]:
    _ok(["user", "create", "boss", "--password", "boss-password", "--superuser"])
    out = _ok(["user", "create", "bot", "--password", "bot-password", "--superuser", "--token", "cli"])
    token = out.strip().rsplit(" ", 1)[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings.from_env()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.should_exit = True
        thread.join(20)


def test_remote_commands_against_a_live_server(live: tuple[str, str], env: Path) -> None:
    url, token = live
    base = ["--url", url, "--token", token]
    _ok(["project", "create", "remote", "--labels", "Product,Price tag,Empty slot", *base])
    assert [p["name"] for p in orjson.loads(_ok(["project", "list", "--json", *base]))] == ["remote"]
    assert "3 new tasks" in _text(["project", "import", "remote", str(env / "shelf.json"), "--format", "native", *base])
    _ok(["project", "export", "remote", str(env / "rout"), *base])
    assert len(formats.read(env / "rout" / "dataset.json", "native").annotations) == 12
    r = runner.invoke(app, ["project", "list", "--url", url, "--token", "lgt_wrong"])
    assert r.exit_code == 1 and "unknown or revoked" in " ".join(r.output.split())

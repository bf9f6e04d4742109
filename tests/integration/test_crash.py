"""No lost work: a server killed with SIGKILL during a 10,000-task import shows all or none of it
and the import can be run again; every submit the server acknowledged is there after a kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from labelgate.client import Client
from tests.conftest import ROOT, require_or_skip
from tests.integration.conftest import PG_URL, _postgres_up

sys.path.insert(0, str(ROOT))
from benchmarks.server.generate import generate_coco

pytestmark = pytest.mark.slow


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = _port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, extra: list[str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", "from labelgate.cli.main import app; app()", "serve",
                                      "--port", str(self.port), *(extra or [])],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError("server did not start")

    def stop(self) -> None:
        """A graceful stop (uvicorn's supervisor takes its workers down with it)."""
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(30)

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "LABELGATE_DATA_DIR": str(tmp_path / "data"), "LABELGATE_ARGON2_TIME_COST": "1",
           "LABELGATE_ARGON2_MEMORY_KIB": "64", "PYTHONPATH": str(ROOT / "src")}
    schema = None
    if request.param == "postgres":
        require_or_skip(_postgres_up(), f"PostgreSQL is not reachable at {PG_URL}")
        schema = f"lg_crash_{uuid.uuid4().hex[:10]}"
        env |= {"LABELGATE_DATABASE_URL": PG_URL, "LABELGATE_DATABASE_SCHEMA": schema}
    yield env
    if schema:
        import sqlalchemy as sa

        eng = sa.create_engine(PG_URL)
        with eng.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()


def _tokens(env: dict[str, str], annotators: int = 0) -> list[str]:
    """A superuser's API token, then one per annotator (users a0, a1, ...)."""
    code = ("from labelgate.server import Runtime, Settings\nfrom labelgate.server.services import auth\n"
            "rt = Runtime.open(Settings.from_env())\nu = auth.create_user(rt, None, 'root', 'root-password', True)\n"
            "print(auth.create_token(rt, u, 't')[1])\n"
            f"for i in range({annotators}):\n"
            "    a = auth.create_user(rt, None, f'a{i}', 'a-password')\n"
            "    print(auth.create_token(rt, a, 't')[1])\n"
            "rt.close()\n")
    return subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout.split()


def test_kill_during_import_leaves_all_or_nothing_and_import_resumes(env: dict[str, str], tmp_path: Path) -> None:
    coco = generate_coco(tmp_path / "tasks.json", 10_000, 1)
    (token,) = _tokens(env)
    server = Server(env)
    server.start()
    with Client(server.url, token) as c:
        pid = c.create_project("crash", label_schema={"classes": [{"name": n} for n in ("Product", "Price tag", "Empty slot")]})["id"]
    outcome: list[object] = []

    def upload() -> None:
        try:
            with Client(server.url, token, timeout=300) as c:
                outcome.append(c.import_file(pid, coco, "coco", "predictions", "m", "1"))
        except httpx.HTTPError as e:
            outcome.append(e)

    th = threading.Thread(target=upload)
    th.start()
    time.sleep(1.0)  # the upload is in flight or the import is running
    server.kill()
    th.join(60)
    server.start()
    try:
        with Client(server.url, token) as c:
            total = c.tasks(pid, 0, 1)["total"]
            assert total in (0, 10_000), f"a killed import left {total} of 10,000 tasks"
            n_ann = sum(i["n_annotations"] for i in c.imports(pid))
            assert n_ann in (0, 10_000)
            again = c.import_file(pid, coco, "coco", "predictions", "m", "1")  # resume: all of it, once
            assert c.tasks(pid, 0, 1)["total"] == 10_000
            assert again["n_tasks"] == 10_000 and (again["reused"] == (total == 10_000))
    finally:
        server.kill()


def test_every_acknowledged_submit_survives_a_kill(env: dict[str, str]) -> None:
    token, *annotators = _tokens(env, 4)
    server = Server(env)
    server.start()
    with Client(server.url, token) as c:
        pid = c.create_project("submits", label_schema={"classes": [{"name": "Product"}]})["id"]
        c.create_tasks(pid, [{"id": f"t{i}"} for i in range(4000)])
        for i in range(len(annotators)):
            c.set_member(pid, f"a{i}", "annotator")
    acked: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    box = {"geometry": {"type": "box", "x1": 1, "y1": 1, "x2": 9, "y2": 9}, "label": "Product"}

    def annotate(mine: str) -> None:
        with Client(server.url, mine, timeout=30) as c:
            while not stop.is_set():
                try:
                    task = c.next_task(pid)
                    if task is None:
                        return
                    a = c.create_annotation(task["id"], [box], submit=True)
                except (httpx.HTTPError, OSError):
                    return
                with lock:
                    acked.append(a["id"])

    threads = [threading.Thread(target=annotate, args=(t,)) for t in annotators]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 30
    while len(acked) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    stop.set()
    for th in threads:
        th.join(30)
    assert len(acked) >= 30
    server.start()
    try:
        with Client(server.url, token) as c:
            for aid in acked:
                assert c.annotation(aid)["status"] == "submitted"
    finally:
        server.kill()


def test_serve_with_several_workers(env: dict[str, str]) -> None:
    if "LABELGATE_DATABASE_URL" in env:
        pytest.skip("worker processes are database-agnostic; once on SQLite is enough")
    (token,) = _tokens(env)
    server = Server(env)
    server.start(["--workers", "2"])
    try:
        with Client(server.url, token) as c:
            pid = c.create_project("workers", label_schema={"classes": [{"name": "Product"}]})["id"]
            c.create_tasks(pid, [{"id": f"t{i}"} for i in range(20)])
            assert {c.task(t["id"])["key"] for t in c.iter_tasks(pid)} == {f"t{i}" for i in range(20)}
    finally:
        server.stop()

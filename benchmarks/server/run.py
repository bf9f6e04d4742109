"""Server benchmark: import N tasks x K pre-annotation boxes (COCO), export them to COCO, then
A concurrent simulated annotators looping next-task + submit, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/server/run.py --tasks 100000 --boxes 10 --annotators 50 --seconds 30

The server runs as its own process (``labelgate serve``); everything goes over HTTP through the
SDK. Label Studio (its own numbers, measured on this machine by the issue's author, SQLite):
import 100k tasks x 5 boxes 225 s / 900 MB, export 165 s / 2.2 GB, submit p50 244 ms, 5 submits/s
with eight annotators.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.server.generate import generate_coco

from labelgate.client import Client
from labelgate.core.errors import ConflictError

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _env(data: Path, backend: str, schema: str) -> dict[str, str]:
    env = {**os.environ, "LABELGATE_DATA_DIR": str(data), "LABELGATE_ARGON2_TIME_COST": "1",
           "LABELGATE_ARGON2_MEMORY_KIB": "1024", "LABELGATE_MAX_UPLOAD_BYTES": str(4 << 30)}
    if backend == "postgres":
        env |= {"LABELGATE_DATABASE_URL": PG_URL, "LABELGATE_DATABASE_SCHEMA": schema}
    return env


def _setup_users(env: dict[str, str], annotators: int) -> tuple[str, list[str]]:
    code = f"""
import os
from labelgate.server import Runtime, Settings
from labelgate.server.services import auth
rt = Runtime.open(Settings.from_env())
root = auth.create_user(rt, None, "root", "root-password", True)
print(auth.create_token(rt, root, "bench")[1])
for i in range({annotators}):
    u = auth.create_user(rt, None, f"ann{{i}}", "ann-password")
    print(auth.create_token(rt, u, "bench")[1])
rt.close()
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout.split()
    return out[0], out[1:]


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([str(ROOT / ".venv/bin/labelgate"), "serve", "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _annotate(url: str, tokens: list[str], project_id: int, seconds: float) -> dict[str, Any]:
    next_lat: list[float] = []
    submit_lat: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    acked: list[int] = []

    def worker(token: str) -> None:
        with Client(url, token, timeout=120) as c:
            mine_n, mine_s, ids = [], [], []
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                task = c.next_task(project_id)
                t1 = time.perf_counter()
                if task is None:
                    break
                box = {"geometry": {"type": "box", "x1": 1, "y1": 1, "x2": 20, "y2": 20}, "label": "Product"}
                try:
                    a = c.create_annotation(task["id"], [box], submit=True, lead_time=1.0)
                except ConflictError:
                    continue
                t2 = time.perf_counter()
                mine_n.append(t1 - t0)
                mine_s.append(t2 - t1)
                ids.append(a["id"])
            with lock:
                next_lat.extend(mine_n)
                submit_lat.extend(mine_s)
                acked.extend(ids)

    threads = [threading.Thread(target=worker, args=(t,)) for t in tokens]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0

    def pct(xs: list[float], q: float) -> float:
        return statistics.quantiles(xs, n=100)[q - 1] * 1000 if len(xs) >= 2 else float("nan")

    return {"submits": len(submit_lat), "submits_per_s": len(submit_lat) / wall, "acked": acked,
            "next_p50": pct(next_lat, 50), "next_p99": pct(next_lat, 99),
            "submit_p50": pct(submit_lat, 50), "submit_p99": pct(submit_lat, 99)}


def run(backend: str, tasks: int, boxes: int, annotators: int, seconds: float, port: int, workers: int = 1) -> dict[str, Any]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix=f"lg-bench-{backend}-") as tmp:
        data = Path(tmp)
        env = _env(data / "data", backend, schema)
        coco = generate_coco(data / "bench_coco.json", tasks, boxes)
        root_token, tokens = _setup_users(env, annotators)
        proc = _serve(env, port, workers)
        url = f"http://127.0.0.1:{port}"
        try:
            with Client(url, root_token, timeout=3600) as c:
                p = c.create_project("import", label_schema={"classes": [{"name": n} for n in ("Product", "Price tag", "Empty slot")]})
                t = time.perf_counter()
                imp = c.import_file(p["id"], coco, "coco", "predictions", "bench", "1")
                t_import = time.perf_counter() - t
                assert imp["n_tasks"] == tasks and imp["n_annotations"] == tasks, imp
                t = time.perf_counter()
                started = c.start_export(p["id"], "coco", "all")
                c.wait_job(started["job"]["id"], timeout=3600, poll=0.1)
                t_export = time.perf_counter() - t
                rec = c.get_export(started["export"]["id"])
                assert rec["manifest"]["regions"] == tasks * boxes, rec["manifest"]
                rss = _rss_mb(proc.pid)
                q = c.create_project("annotate", label_schema={"classes": [{"name": "Product"}]})
                for i in range(annotators):
                    c.set_member(q["id"], f"ann{i}", "annotator")
                n_work = max(2000, int(annotators * seconds * 20))
                for start in range(0, n_work, 1000):
                    c.create_tasks(q["id"], [{"id": f"w{j}", "width": 640, "height": 480}
                                             for j in range(start, min(n_work, start + 1000))])
                # many tasks already in the database make next-task honest: use the import project's size too
                ann = _annotate(url, tokens, q["id"], seconds)
                stored = {a["id"] for t_ in c.iter_tasks(q["id"], 1000) if t_["n_submitted"]
                          for a in c.task(t_["id"])["annotations"]} if len(ann["acked"]) < 5000 else None
                lost = None if stored is None else len(set(ann["acked"]) - stored)
        finally:
            proc.terminate()
            proc.wait(30)
            if backend == "postgres":
                import sqlalchemy as sa

                eng = sa.create_engine(PG_URL)
                with eng.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                eng.dispose()
    return {"backend": backend, "tasks": tasks, "boxes": tasks * boxes, "import_s": t_import, "export_s": t_export,
            "server_peak_rss_mb": rss, "lost": lost, **{k: v for k, v in ann.items() if k != "acked"}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--boxes", type=int, default=10)
    ap.add_argument("--annotators", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--workers", type=int, default=1, help="server processes (labelgate serve --workers)")
    args = ap.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    rows = [run(b, args.tasks, args.boxes, args.annotators, args.seconds, args.port + i, args.workers)
            for i, b in enumerate(backends)]
    print("| backend | tasks | boxes | import s | export s | server peak RSS MB | submits/s | next p50/p99 ms | submit p50/p99 ms | lost |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['backend']} | {r['tasks']:,} | {r['boxes']:,} | {r['import_s']:.1f} | {r['export_s']:.1f} | "
              f"{r['server_peak_rss_mb']:.0f} | {r['submits_per_s']:.0f} | {r['next_p50']:.0f} / {r['next_p99']:.0f} | "
              f"{r['submit_p50']:.0f} / {r['submit_p99']:.0f} | {r['lost'] if r['lost'] is not None else 'n/a'} |")


if __name__ == "__main__":
    main()
